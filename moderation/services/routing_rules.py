"""Admins' edits to routing rules: validated, audited, one transaction each."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import model_to_dict

from moderation.engine.config import routing_config
from moderation.models import Label, ModelVersion, ReviewQueue, RoutingRule
from moderation.services.audit import audit_event_record

FIELDS = ("order", "label", "action", "threshold", "margin", "queue", "source", "tuned_on", "is_active")


def _snapshot(rule: RoutingRule) -> dict:
    return model_to_dict(rule, fields=FIELDS)


def routing_rule_validate(rule: RoutingRule) -> None:
    """What makes a rule usable by the engine; raises ValidationError by field."""
    errors = {}
    if rule.action == RoutingRule.Action.REVIEW and rule.queue_id is None:
        errors["queue"] = "A review rule needs a queue."
    if rule.action == RoutingRule.Action.AUTO_REJECT and (rule.label_id is None or rule.threshold is None):
        errors["threshold"] = "An auto-reject rule needs a label and a threshold."
    if rule.action == RoutingRule.Action.AUTO_APPROVE and rule.label_id is not None:
        errors["label"] = "An auto-approve rule applies to every label: leave the label empty."
    if rule.action == RoutingRule.Action.AUTO_APPROVE and rule.threshold is not None:
        errors["threshold"] = "An auto-approve rule has a margin below every review threshold, not a threshold."
    if rule.action != RoutingRule.Action.AUTO_APPROVE and rule.margin is not None:
        errors["margin"] = "Only an auto-approve rule has a margin."
    if rule.action == RoutingRule.Action.REVIEW and rule.label_id is None:
        errors["label"] = "A review rule is for one label."
    if rule.queue_id is not None and ReviewQueue.objects.filter(pk=rule.queue_id, is_audit=True).exists():
        # Its items are a random sample of automatic decisions; routed ones would skew its precision.
        errors["queue"] = "The blind audit queue takes only random samples of automatic decisions, not routed comments."
    elif ReviewQueue.objects.filter(pk=rule.queue_id, slug=settings.TOXISCOPE_TEACH_QUEUE).exists():
        # Its items are those the model would decide alone, chosen to be labelled, within a budget.
        errors["queue"] = "The “teach the model” queue takes only the comments chosen to be labelled, not routed ones."
    elif rule.is_active and ReviewQueue.objects.filter(pk=rule.queue_id, is_retired=True).exists():
        errors["queue"] = "That queue is retired: it takes nothing new. Choose another, or make the rule inactive."
    if errors:
        raise ValidationError(errors)
    rule.full_clean()


@transaction.atomic
def routing_rule_create(*, changed_by, **values) -> RoutingRule:
    rule = RoutingRule(**values)
    routing_rule_validate(rule)
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
    routing_rule_validate(rule)
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


@transaction.atomic
def label_thresholds_save(
    *, label: Label, review: float, reject: float | None, tuned_on: ModelVersion | None = None, changed_by
) -> list[RoutingRule]:
    """Save a label's review threshold (and auto-reject threshold, if any) as its global routing
    rules, chosen on `tuned_on`'s scores. The rules they replace are deactivated, not changed:
    each save is a new version of the label's rules, and the old ones stay in the history."""
    if not 0 <= review <= 1 or (reject is not None and not review <= reject <= 1):
        raise ValidationError("Thresholds are between 0 and 1, and auto-reject is at or above review.")
    current = list(
        RoutingRule.objects.select_for_update().filter(
            label=label,
            source="",
            is_active=True,
            action__in=[RoutingRule.Action.REVIEW, RoutingRule.Action.AUTO_REJECT],
        )
    )
    review_rule = next((rule for rule in current if rule.action == RoutingRule.Action.REVIEW), None)
    queue = review_rule.queue if review_rule else ReviewQueue.objects.get(slug=routing_config.get().default_queue.slug)
    for rule in current:
        routing_rule_deactivate(rule=rule, changed_by=changed_by)
    saved = [
        routing_rule_create(
            changed_by=changed_by,
            order=review_rule.order if review_rule else 100,
            label=label,
            action=RoutingRule.Action.REVIEW,
            threshold=review,
            queue=queue,
            tuned_on=tuned_on,
        )
    ]
    if reject is not None:
        saved.append(
            routing_rule_create(
                changed_by=changed_by,
                order=10,
                label=label,
                action=RoutingRule.Action.AUTO_REJECT,
                threshold=reject,
                tuned_on=tuned_on,
            )
        )
    return saved
