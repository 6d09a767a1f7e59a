from django.db import migrations

LABELS = [
    ("toxic", "Rude, disrespectful or unreasonable; likely to make someone leave a discussion."),
    ("severe_toxic", "Very hateful, aggressive or disrespectful."),
    ("obscene", "Swearing, cursing, vulgar or sexually explicit language."),
    ("threat", "An intention to inflict pain, injury or violence on someone."),
    ("insult", "Insulting, inflammatory or negative about a person or group."),
    ("identity_hate", "Hateful about a person's identity: religion, gender, sexuality, disability, ethnicity."),
    ("racism", "Hateful or demeaning because of race, ethnicity or national origin."),
]
ROLES = ["admin", "moderator", "api_client"]
QUEUES = [
    ("General", "general", "Everything that needs a person's look.", 24 * 60, False),
    ("Urgent", "urgent", "Threats and severe toxicity: reviewed first.", 60, False),
    ("Audit", "audit", "Blind samples of automatic decisions, to measure their precision.", 7 * 24 * 60, True),
]


def seed(apps, schema_editor):
    Label = apps.get_model("moderation", "Label")
    Group = apps.get_model("auth", "Group")
    ReviewQueue = apps.get_model("moderation", "ReviewQueue")
    for order, (name, description) in enumerate(LABELS):
        Label.objects.get_or_create(name=name, defaults={"description": description, "display_order": order})
    for role in ROLES:
        Group.objects.get_or_create(name=role)
    for name, slug, description, sla, is_audit in QUEUES:
        ReviewQueue.objects.get_or_create(
            slug=slug, defaults={"name": name, "description": description, "sla_minutes": sla, "is_audit": is_audit}
        )


class Migration(migrations.Migration):
    dependencies = [("moderation", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
