"""How often people disagree with the model, per label, community and week: computed from the
stored decisions, never kept by hand (issue #25). Three measures:

- **flags overturned**: of the comments the model flagged for a label and a moderator labelled
  that label, the share the moderator said no to;
- **suggestions corrected**: of every label a moderator set on a scored comment, the share that
  differs from what the model suggested (flagged or not);
- **auto-approvals rejected**: of the auto-approved comments the blind audit judged, the share
  it rejected (for every label at once: label "").

Undone and bulk decisions are left out: they say nothing about one comment's labels."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from moderation.models import AuditEvent, Decision, ModelVersion, RoutingRule

MEASURES = ("flags_overturned", "suggestions_corrected", "auto_approvals_rejected")
FINAL = (Decision.Action.APPROVE, Decision.Action.REJECT)


@dataclass(frozen=True)
class Disagreement:
    week: date  # the Monday the week starts on
    source: str
    label: str  # "" for auto_approvals_rejected
    measure: str
    disagreed: int
    judged: int

    @property
    def share(self) -> float:
        return self.disagreed / self.judged if self.judged else 0.0


def _monday(moment: datetime) -> date:
    day = timezone.localtime(moment).date()
    return day - timedelta(days=day.weekday())


def disagreement(*, since: datetime | None = None) -> list[Disagreement]:
    """Every (week, community, label, measure) with at least one judgement since `since`
    (default: the last 12 weeks), oldest week first."""
    since = since or timezone.now() - timedelta(weeks=12)
    decisions = (
        Decision.objects.filter(created_at__gte=since, undone_at__isnull=True, is_bulk=False)
        .exclude(comment__route_action="")
        .select_related("comment", "review_item__queue")
        .order_by("created_at")
    )
    counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for decision in decisions:
        comment = decision.comment
        week, source = _monday(decision.created_at), comment.source
        audit = decision.review_item is not None and decision.review_item.queue.is_audit
        if audit:
            if comment.route_action == RoutingRule.Action.AUTO_APPROVE and decision.action in FINAL:
                cell = counts[(week, source, "", "auto_approvals_rejected")]
                cell[0] += decision.action == Decision.Action.REJECT
                cell[1] += 1
            continue
        flagged = set(comment.flagged_labels)
        for label, value in decision.labels.items():
            corrected = counts[(week, source, label, "suggestions_corrected")]
            corrected[0] += bool(value) != (label in flagged)
            corrected[1] += 1
            if label in flagged:
                overturned = counts[(week, source, label, "flags_overturned")]
                overturned[0] += not value
                overturned[1] += 1
    return [
        Disagreement(week, source, label, measure, disagreed, judged)
        for (week, source, label, measure), (disagreed, judged) in sorted(counts.items())
    ]


@dataclass(frozen=True)
class Week:
    """One week of disagreement over every label and community, and the versions promoted in it."""

    week: date
    measures: dict[str, Disagreement]  # by measure, summed over labels and communities
    promoted: list[str]

    @property
    def cells(self) -> list[Disagreement | None]:
        """The measures in MEASURES' order (None: nothing judged that week)."""
        return [self.measures.get(measure) for measure in MEASURES]


def disagreement_by_week(*, since: datetime | None = None) -> list[Week]:
    """disagreement() summed per week (newest first), with the promotions of each week marked."""
    rows = disagreement(since=since)
    sums: dict[date, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for row in rows:
        cell = sums[row.week][row.measure]
        cell[0] += row.disagreed
        cell[1] += row.judged
    events = list(AuditEvent.objects.filter(action="model_version.promote").order_by("created_at"))
    names = dict(ModelVersion.objects.filter(pk__in=[e.target_id for e in events]).values_list("pk", "name"))
    promotions: dict[date, list[str]] = defaultdict(list)
    for event in events:
        promotions[_monday(event.created_at)].append(names.get(int(event.target_id), f"#{event.target_id}"))
    return [
        Week(
            week,
            {
                measure: Disagreement(week, "", "", measure, disagreed, judged)
                for measure, (disagreed, judged) in sums[week].items()
            },
            promotions.get(week, []),
        )
        for week in sorted(sums, reverse=True)
    ]
