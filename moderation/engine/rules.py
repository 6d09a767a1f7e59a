"""The routing decision for one scored comment: pure logic over plain values, no database.

Rules are evaluated in this order:
1. auto-reject: the first auto-reject rule (by `order`) whose label scores at or over its
   threshold rejects the comment without a person;
2. review: every label at or over its *review threshold* (its review rule's threshold, or the
   model's calibrated threshold when the rule has none or there is no rule) is flagged; the
   first review rule (by `order`) whose label is flagged names the queue, else the default
   queue takes it;
3. auto-approve: with an auto-approve rule, a comment whose every label is at least the rule's
   margin below its review threshold is approved; one closer than that ("near threshold") goes
   to the default queue for a person, and so does one whose label that the version has too
   little evidence for (ModelVersion.unreliable_labels) scores UNRELIABLE_REVIEW_SHARE of its
   threshold or more;
4. without an auto-approve rule, every comment is reviewed.

A rule scoped to a source (community) replaces the global rule with the same action and label
for comments from that source.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from moderation.models import RoutingRule

# The actions, from their one source: the rules' choices.
REVIEW, AUTO_REJECT, AUTO_APPROVE = (
    RoutingRule.Action.REVIEW,
    RoutingRule.Action.AUTO_REJECT,
    RoutingRule.Action.AUTO_APPROVE,
)

# An unreliable label's score from this share of its threshold up stops an auto-approval.
UNRELIABLE_REVIEW_SHARE = 0.5


@dataclass(frozen=True)
class Rule:
    id: int
    order: int
    action: str
    label: str | None = None
    threshold: float | None = None
    margin: float | None = None  # auto-approve rules only
    queue: str | None = None
    source: str = ""


@dataclass(frozen=True)
class RouteDecision:
    action: str
    queue: str | None
    reason: str
    rule_id: int | None = None
    flagged: tuple[str, ...] = ()
    priority: float = 0.0
    review_thresholds: Mapping[str, float] = field(default_factory=dict)


def rules_for_source(rules: Sequence[Rule], source: str) -> list[Rule]:
    applicable = [rule for rule in rules if rule.source in ("", source)]
    scoped = {(rule.action, rule.label) for rule in applicable if rule.source}
    applicable = [rule for rule in applicable if rule.source or (rule.action, rule.label) not in scoped]
    return sorted(applicable, key=lambda rule: (rule.order, rule.id))


def review_thresholds(rules: Sequence[Rule], calibrated: Mapping[str, float]) -> dict[str, float]:
    """Per label: the first review rule's explicit threshold, else the calibrated one."""
    chosen = dict(calibrated)
    explicit = set()
    for rule in rules:
        if rule.action == REVIEW and rule.label in chosen and rule.label not in explicit:
            explicit.add(rule.label)
            if rule.threshold is not None:
                chosen[rule.label] = rule.threshold
    return chosen


def priority(
    scores: Mapping[str, float], thresholds: Mapping[str, float], flagged: Sequence[str], severity: Mapping[str, float]
) -> float:
    """Severity-weighted: each flagged label adds its severity times (1 + how far past its
    threshold it is, as a share of the room above the threshold)."""
    total = 0.0
    for label in flagged:
        room = max(1.0 - thresholds[label], 1e-6)
        total += severity.get(label, 1.0) * (1.0 + (scores[label] - thresholds[label]) / room)
    return round(total, 6)


def _describe(labels: Sequence[str], scores: Mapping[str, float], thresholds: Mapping[str, float], sign: str) -> str:
    return ", ".join(f"{label} {scores[label]:.2f} {sign} {thresholds[label]:.2f}" for label in labels)


def _auto_reject(
    applicable: Sequence[Rule],
    scores: Mapping[str, float],
    thresholds: Mapping[str, float],
    flagged: tuple[str, ...],
    weight: float,
) -> RouteDecision | None:
    for rule in applicable:
        if (
            rule.action == AUTO_REJECT
            and rule.label is not None
            and rule.label in thresholds
            and rule.threshold is not None
            and scores[rule.label] >= rule.threshold
        ):
            return RouteDecision(
                action=AUTO_REJECT,
                queue=None,
                reason="auto-reject: " + _describe([rule.label], scores, {rule.label: rule.threshold}, "≥"),
                rule_id=rule.id,
                flagged=flagged,
                priority=weight,
                review_thresholds=thresholds,
            )
    return None


def _review_flagged(
    applicable: Sequence[Rule],
    scores: Mapping[str, float],
    thresholds: Mapping[str, float],
    flagged: tuple[str, ...],
    weight: float,
    default_queue: str,
) -> RouteDecision:
    rule = next((r for r in applicable if r.action == REVIEW and r.label in flagged), None)
    return RouteDecision(
        action=REVIEW,
        queue=rule.queue if rule is not None and rule.queue else default_queue,
        reason="over review threshold: " + _describe(flagged, scores, thresholds, "≥"),
        rule_id=rule.id if rule else None,
        flagged=flagged,
        priority=weight,
        review_thresholds=thresholds,
    )


def _unflagged(
    approve: Rule,
    scores: Mapping[str, float],
    thresholds: Mapping[str, float],
    unreliable: Collection[str],
    default_queue: str,
) -> RouteDecision:
    """A comment under every review threshold, with an auto-approve rule: approved, unless a
    label comes within the rule's margin of its threshold, or a label the version has too
    little evidence for scores UNRELIABLE_REVIEW_SHARE of its threshold or more (its low score
    is no proof of a clean comment); then a person checks, closest calls first."""
    margin = approve.margin or 0.0
    doubtful = [
        label
        for label in thresholds
        if label in unreliable and scores[label] >= thresholds[label] * UNRELIABLE_REVIEW_SHARE
    ]
    near = [label for label in thresholds if scores[label] >= thresholds[label] - margin]
    if doubtful or near:
        closeness = max(
            scores[label] / thresholds[label] if thresholds[label] > 0 else 1.0 for label in doubtful + near
        )
        reason = (
            "not reliable, so a person checks: " + _describe(doubtful, scores, thresholds, "<")
            if doubtful
            else f"near threshold (within {margin:.2f}): " + _describe(near, scores, thresholds, "<")
        )
        return RouteDecision(
            action=REVIEW,
            queue=default_queue,
            reason=reason,
            rule_id=approve.id,
            priority=round(closeness, 6),
            review_thresholds=thresholds,
        )
    return RouteDecision(
        action=AUTO_APPROVE,
        queue=None,
        reason=f"auto-approve: every label at least {margin:.2f} below its threshold",
        rule_id=approve.id,
        review_thresholds=thresholds,
    )


def decide_route(
    *,
    scores: Mapping[str, float],
    calibrated_thresholds: Mapping[str, float],
    rules: Sequence[Rule],
    source: str,
    default_queue: str,
    severity: Mapping[str, float] | None = None,
    unreliable: Collection[str] = (),
    unserved_language: str = "",
) -> RouteDecision:
    """`unserved_language`: the comment's language, where the model was not trained on it: its
    scores say little, so no rule decides it and a person does."""
    # Only labels the model scores and has a threshold for take part, in the model's order.
    calibrated = {label: calibrated_thresholds[label] for label in scores if label in calibrated_thresholds}
    applicable = rules_for_source(rules, source)
    thresholds = review_thresholds(applicable, calibrated)
    flagged = tuple(label for label in thresholds if scores[label] >= thresholds[label])
    weight = priority(scores, thresholds, flagged, severity or {})
    if unserved_language:
        reason = f"in {unserved_language}, a language the model was not trained on: a person decides"
        return RouteDecision(REVIEW, default_queue, reason, None, flagged, weight, thresholds)
    rejected = _auto_reject(applicable, scores, thresholds, flagged, weight)
    if rejected is not None:
        return rejected
    if flagged:
        return _review_flagged(applicable, scores, thresholds, flagged, weight, default_queue)
    approve = next((r for r in applicable if r.action == AUTO_APPROVE and r.label is None), None)
    if approve is None:
        return RouteDecision(
            action=REVIEW,
            queue=default_queue,
            reason="below every threshold; no auto-approve rule, so a person checks",
            review_thresholds=thresholds,
        )
    return _unflagged(approve, scores, thresholds, unreliable, default_queue)
