"""A fixed threshold records the version it was chosen on (RoutingRule.tuned_on)."""

from importlib import import_module

import django.db.models.deletion
from django.db import migrations, models

# SQLite rebuilds the routing rule table to drop this column again (a foreign key), which fails
# while triggers name that table: migrations 0018's and 0021's triggers step aside around it.
TRIGGERS = [
    import_module("moderation.migrations.0018_routing_rule_not_to_audit_queue"),
    import_module("moderation.migrations.0021_review_queue_retired"),
]


def triggers_off(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for migration in TRIGGERS:
            for statement in migration.SQLITE_REVERSE:
                schema_editor.execute(statement)


def triggers_on(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for migration in TRIGGERS:
            for statement in migration.SQLITE:
                schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0023_comment_language"),
    ]

    operations = [
        migrations.RunPython(triggers_off, triggers_on),
        migrations.AddField(
            model_name="routingrule",
            name="tuned_on",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="moderation.modelversion",
            ),
        ),
        migrations.RunPython(triggers_on, triggers_off),
    ]
