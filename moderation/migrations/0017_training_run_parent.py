from django.db import migrations


class Migration(migrations.Migration):
    """TrainingRun.source_version and ModelVersion.parent named one link: it is `parent`."""

    dependencies = [
        ("moderation", "0016_routing_rule_margin"),
    ]

    operations = [
        migrations.RenameField(model_name="trainingrun", old_name="source_version", new_name="parent"),
    ]
