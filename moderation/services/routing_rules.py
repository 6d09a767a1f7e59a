"""Admins' edits to routing rules: validated, audited, one transaction each."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import model_to_dict

from moderation.models import RoutingRule
from moderation.services.audit import audit_event_record
from moderation.services.routing_config import routing_config

FIELDS = ("order", "label", "action", "threshold", "queue", "source", "is_active")


def _snapshot(rule: RoutingRule) -> dict:
    return model_to_dict(rule, fields=FIELDS)


def _validate(rule: RoutingRule) -> None:
    errors = {}
    if rule.action == RoutingRule.Action.REVIEW and rule.queue_id is None:
        errors["queue"] = "A review rule needs a queue."
    if rule.action == RoutingRule.Action.AUTO_REJECT and (rule.label_id is None or rule.threshold is None):
        errors["threshold"] = "An auto-reject rule needs a label and a threshold."
    if rule.action == RoutingRule.Action.AUTO_APPROVE and rule.label_id is not None:
        errors["label"] = "An auto-approve rule applies to every label: leave the label empty."
    if rule.action == RoutingRule.Action.REVIEW and rule.label_id is None:
        errors["label"] = "A review rule is for one label."
    if errors:
        raise ValidationError(errors)
    rule.full_clean()


@transaction.atomic
def routing_rule_create(*, changed_by, **values) -> RoutingRule:
    rule = RoutingRule(**values)
    _validate(rule)
    rule.save()
    audit_event_record(actor=changed_by, action="routing_rule.create", target=rule, after=_snapshot(rule))
    transaction.on_commit(routing_config.invalidate)
    return rule


@transaction.atomic
def routing_rule_update(*, rule: RoutingRule, changed_by, **values) -> RoutingRule:
    rule = RoutingRule.objects.select_for_update().get(pk=rule.pk)
    before = _snapshot(rule)
    for name, value in values.items():
        setattr(rule, name, value)
    _validate(rule)
    rule.save()
    audit_event_record(
        actor=changed_by, action="routing_rule.update", target=rule, before=before, after=_snapshot(rule)
    )
    transaction.on_commit(routing_config.invalidate)
    return rule


@transaction.atomic
def routing_rule_deactivate(*, rule: RoutingRule, changed_by) -> RoutingRule:
    """Rules are never deleted: review items cite the rule that routed them, and the audit
    trail keeps every version. A deactivated rule stops applying within seconds everywhere."""
    return routing_rule_update(rule=rule, changed_by=changed_by, is_active=False)
