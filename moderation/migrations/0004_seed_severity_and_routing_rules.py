from django.db import migrations

SEVERITY = {"severe_toxic": 3.0, "threat": 3.0, "identity_hate": 2.0, "racism": 2.0}
# Threats and severe toxicity go to the urgent queue; a comment with every label at least 0.1
# below its review threshold is approved without a person.
URGENT_LABELS = ["threat", "severe_toxic"]
AUTO_APPROVE_MARGIN = 0.1


def seed(apps, schema_editor):
    Label = apps.get_model("moderation", "Label")
    RoutingRule = apps.get_model("moderation", "RoutingRule")
    ReviewQueue = apps.get_model("moderation", "ReviewQueue")
    for name, severity in SEVERITY.items():
        Label.objects.filter(name=name).update(severity=severity)
    urgent = ReviewQueue.objects.get(slug="urgent")
    for order, name in enumerate(URGENT_LABELS, start=10):
        RoutingRule.objects.get_or_create(
            label=Label.objects.get(name=name), action="review", source="", defaults={"queue": urgent, "order": order}
        )
    RoutingRule.objects.get_or_create(
        label=None, action="auto_approve", source="", defaults={"threshold": AUTO_APPROVE_MARGIN, "order": 1000}
    )


class Migration(migrations.Migration):
    dependencies = [("moderation", "0003_routing_fields")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
