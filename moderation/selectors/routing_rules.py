"""Reads for routing rules: the thresholds a label is routed by."""

from dataclasses import dataclass

from moderation.models import ModelVersion, RoutingRule


@dataclass(frozen=True)
class FixedThresholds:
    """A label's global review and auto-reject thresholds that are numbers, not the active
    version's calibrated threshold (None where the label has no such rule)."""

    label: str
    review: float | None
    reject: float | None
    tuned_on: ModelVersion | None  # the version whose scores they were chosen on; None: set by hand

    def tuned_for(self, version: ModelVersion) -> bool:
        return self.tuned_on is not None and self.tuned_on.pk == version.pk


def fixed_thresholds() -> dict[str, FixedThresholds]:
    """Every label's fixed global thresholds, by label name. They route whichever version is
    active, so a promotion or a rollback carries them over unchanged."""
    rules = (
        RoutingRule.objects.filter(
            is_active=True,
            source="",
            threshold__isnull=False,
            label__isnull=False,
            action__in=[RoutingRule.Action.REVIEW, RoutingRule.Action.AUTO_REJECT],
        )
        .select_related("label", "tuned_on")
        .order_by("label__name", "order", "id")
    )
    found: dict[str, FixedThresholds] = {}
    for rule in rules:
        assert rule.label is not None and rule.threshold is not None  # filtered above
        name = rule.label.name
        current = found.get(name) or FixedThresholds(label=name, review=None, reject=None, tuned_on=None)
        if rule.action == RoutingRule.Action.REVIEW and current.review is None:
            current = FixedThresholds(name, rule.threshold, current.reject, rule.tuned_on or current.tuned_on)
        elif rule.action == RoutingRule.Action.AUTO_REJECT and current.reject is None:
            current = FixedThresholds(name, current.review, rule.threshold, current.tuned_on or rule.tuned_on)
        found[name] = current
    return found


def thresholds_tuned_elsewhere(version: ModelVersion) -> list[FixedThresholds]:
    """The fixed thresholds that would route `version` although they were not chosen on its
    scores: what a promotion or rollback to it should say."""
    return [fixed for fixed in fixed_thresholds().values() if not fixed.tuned_for(version)]
