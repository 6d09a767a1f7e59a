"""A review queue can be retired: it takes nothing new, and its open items stay until decided.
No active routing rule may target a retired queue, and a queue that active rules target cannot
be retired. A check constraint cannot see another table, so triggers hold it, in PostgreSQL
and in SQLite alike (the services and the admin refuse it first, with a field message)."""

from importlib import import_module

from django.db import migrations, models

MESSAGE = "an active routing rule may not target a retired queue"

POSTGRESQL = f"""
CREATE FUNCTION moderation_rule_not_to_retired_queue() RETURNS trigger AS $$
BEGIN
    IF TG_TABLE_NAME = 'moderation_routingrule' THEN
        IF NEW.is_active AND EXISTS (SELECT 1 FROM moderation_reviewqueue WHERE id = NEW.queue_id AND is_retired) THEN
            RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    ELSIF NEW.is_retired AND EXISTS (
        SELECT 1 FROM moderation_routingrule WHERE queue_id = NEW.id AND is_active
    ) THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER routing_rule_not_to_retired_queue BEFORE INSERT OR UPDATE OF queue_id, is_active
    ON moderation_routingrule FOR EACH ROW EXECUTE FUNCTION moderation_rule_not_to_retired_queue();
CREATE TRIGGER retired_queue_has_no_active_rules BEFORE UPDATE OF is_retired ON moderation_reviewqueue
    FOR EACH ROW EXECUTE FUNCTION moderation_rule_not_to_retired_queue();
"""
POSTGRESQL_REVERSE = """
DROP TRIGGER routing_rule_not_to_retired_queue ON moderation_routingrule;
DROP TRIGGER retired_queue_has_no_active_rules ON moderation_reviewqueue;
DROP FUNCTION moderation_rule_not_to_retired_queue();
"""
SQLITE = [
    f"""CREATE TRIGGER routing_rule_not_to_retired_queue_{event} BEFORE {event} ON moderation_routingrule
    WHEN NEW.is_active AND (SELECT is_retired FROM moderation_reviewqueue WHERE id = NEW.queue_id)
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;"""
    for event in ("INSERT", "UPDATE")
] + [
    f"""CREATE TRIGGER retired_queue_has_no_active_rules BEFORE UPDATE OF is_retired ON moderation_reviewqueue
    WHEN NEW.is_retired AND EXISTS (SELECT 1 FROM moderation_routingrule WHERE queue_id = NEW.id AND is_active)
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;"""
]
SQLITE_REVERSE = [
    "DROP TRIGGER routing_rule_not_to_retired_queue_INSERT;",
    "DROP TRIGGER routing_rule_not_to_retired_queue_UPDATE;",
    "DROP TRIGGER retired_queue_has_no_active_rules;",
]


# SQLite adds the column by rebuilding the queue table, which fails while a trigger on another
# table names it: migration 0018's triggers step aside for the rebuild and come back after it.
AUDIT_TRIGGERS = import_module("moderation.migrations.0018_routing_rule_not_to_audit_queue")


def _sqlite(schema_editor) -> bool:
    return schema_editor.connection.vendor == "sqlite"


def audit_triggers_off(apps, schema_editor):
    if _sqlite(schema_editor):
        for statement in AUDIT_TRIGGERS.SQLITE_REVERSE:
            schema_editor.execute(statement)


def audit_triggers_on(apps, schema_editor):
    if _sqlite(schema_editor):
        for statement in AUDIT_TRIGGERS.SQLITE:
            schema_editor.execute(statement)


def forwards(apps, schema_editor):
    for statement in SQLITE if _sqlite(schema_editor) else [POSTGRESQL]:
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    statements = SQLITE_REVERSE if _sqlite(schema_editor) else POSTGRESQL_REVERSE.split(";\n")
    for statement in filter(str.strip, statements):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0020_choice_labels"),
    ]

    operations = [
        migrations.RunPython(audit_triggers_off, audit_triggers_on),
        migrations.AddField(
            model_name="reviewqueue",
            name="is_retired",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(audit_triggers_on, audit_triggers_off),
        migrations.RunPython(forwards, backwards),
    ]
