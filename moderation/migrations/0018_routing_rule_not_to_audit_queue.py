"""No routing rule may send comments to a blind audit queue: its items are a random sample of
automatic decisions, and a rule's items there would skew the precision it measures. A check
constraint cannot see another table, so a trigger on each side holds it, in PostgreSQL and in
SQLite alike (the services refuse it first, with a field message)."""

from django.conf import settings
from django.db import migrations

MESSAGE = "a routing rule may not target the blind audit queue"

POSTGRESQL = f"""
CREATE FUNCTION moderation_rule_not_to_audit_queue() RETURNS trigger AS $$
BEGIN
    IF TG_TABLE_NAME = 'moderation_routingrule' THEN
        IF EXISTS (SELECT 1 FROM moderation_reviewqueue WHERE id = NEW.queue_id AND is_audit) THEN
            RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    ELSIF NEW.is_audit AND EXISTS (SELECT 1 FROM moderation_routingrule WHERE queue_id = NEW.id) THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER routing_rule_not_to_audit_queue BEFORE INSERT OR UPDATE OF queue_id ON moderation_routingrule
    FOR EACH ROW EXECUTE FUNCTION moderation_rule_not_to_audit_queue();
CREATE TRIGGER audit_queue_has_no_rules BEFORE UPDATE OF is_audit ON moderation_reviewqueue
    FOR EACH ROW EXECUTE FUNCTION moderation_rule_not_to_audit_queue();
"""
POSTGRESQL_REVERSE = """
DROP TRIGGER routing_rule_not_to_audit_queue ON moderation_routingrule;
DROP TRIGGER audit_queue_has_no_rules ON moderation_reviewqueue;
DROP FUNCTION moderation_rule_not_to_audit_queue();
"""
SQLITE = [
    f"""CREATE TRIGGER routing_rule_not_to_audit_queue_{event} BEFORE {event} ON moderation_routingrule
    WHEN (SELECT is_audit FROM moderation_reviewqueue WHERE id = NEW.queue_id)
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;"""
    for event in ("INSERT", "UPDATE")
] + [
    f"""CREATE TRIGGER audit_queue_has_no_rules BEFORE UPDATE OF is_audit ON moderation_reviewqueue
    WHEN NEW.is_audit AND EXISTS (SELECT 1 FROM moderation_routingrule WHERE queue_id = NEW.id)
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;"""
]
SQLITE_REVERSE = [
    "DROP TRIGGER routing_rule_not_to_audit_queue_INSERT;",
    "DROP TRIGGER routing_rule_not_to_audit_queue_UPDATE;",
    "DROP TRIGGER audit_queue_has_no_rules;",
]


def _retarget_existing(apps) -> None:
    """Rules that already send comments to an audit queue stop: deactivated, and pointed at the
    default queue so that the rows stay valid (review items still cite them)."""
    RoutingRule, ReviewQueue = apps.get_model("moderation", "RoutingRule"), apps.get_model("moderation", "ReviewQueue")
    offending = RoutingRule.objects.filter(queue__is_audit=True)
    if offending.exists():
        default, _ = ReviewQueue.objects.get_or_create(
            slug=settings.TOXISCOPE_DEFAULT_QUEUE, defaults={"name": settings.TOXISCOPE_DEFAULT_QUEUE.title()}
        )
        offending.update(queue=default, is_active=False)


def forwards(apps, schema_editor):
    _retarget_existing(apps)
    statements = [POSTGRESQL] if schema_editor.connection.vendor == "postgresql" else SQLITE
    for statement in statements:
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    statements = POSTGRESQL_REVERSE.split(";\n") if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE
    for statement in filter(str.strip, statements):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0017_training_run_parent"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
