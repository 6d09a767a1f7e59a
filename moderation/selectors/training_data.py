"""What training reads: the labelled comments (known labels only), the evaluation set that no
version trains on, and the texts a teacher scores for a student."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from moderation.models import Comment, LabelAnnotation
from training.data import Example, in_evaluation_set

# The annotations a model learns from: imported labels, clients' feedback (their own
# moderators' decisions) and this platform's moderators' decisions, in rising precedence.
DATA_ORIGINS = (
    LabelAnnotation.Origin.IMPORTED,
    LabelAnnotation.Origin.CLIENT_FEEDBACK,
    LabelAnnotation.Origin.MODERATOR,
)


def aware(iso: str) -> datetime:
    moment = datetime.fromisoformat(iso)
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def training_examples(
    *,
    labels: Sequence[str],
    origins: Sequence[str],
    since: str | None = None,
    until: str | None = None,
    sources: Sequence[str] | None = None,
) -> list[Example]:
    """Every comment with at least one known label among `labels`, from annotations of the
    given origins, less the evaluation set (no version trains on it). A moderator's value beats
    a client's feedback, which beats an imported one; a label without an annotation stays
    unknown. `since`/`until` filter on when the annotation was made; `sources`, if given, keeps
    those communities' comments only (a community's own model)."""
    return [
        Example(text=row.text, labels=row.labels, language=row.language)
        for row in labelled_comments(labels=labels, origins=origins, since=since, until=until, sources=sources)
        if not in_evaluation_set(row.text)
    ]


def labelled_sources() -> list[str]:
    """The communities (sources) whose comments carry labels: what a run may be limited to."""
    return list(
        Comment.objects.filter(annotations__isnull=False).values_list("source", flat=True).distinct().order_by("source")
    )


def transfer_texts() -> list[str]:
    """Every distinct comment text, labelled or not (live traffic too), less the evaluation set:
    what a teacher scores for a student to learn from."""
    texts = Comment.objects.values_list("text", flat=True).distinct().iterator(chunk_size=5000)
    return [text for text in texts if not in_evaluation_set(text)]


@dataclass(frozen=True)
class LabelledComment:
    id: int
    external_id: str | None
    source: str
    text: str
    language: str
    labels: dict[str, bool]


def labelled_comments(
    *,
    labels: Sequence[str],
    origins: Sequence[str],
    since: str | None = None,
    until: str | None = None,
    sources: Sequence[str] | None = None,
) -> list[LabelledComment]:
    """The known label values of each labelled comment, by comment id (see training_examples)."""
    annotations = LabelAnnotation.objects.filter(origin__in=origins, label__name__in=labels)
    if sources:
        annotations = annotations.filter(comment__source__in=sources)
    if since:
        annotations = annotations.filter(updated_at__gte=aware(since))
    if until:
        annotations = annotations.filter(updated_at__lte=aware(until))
    rank = {origin: precedence for precedence, origin in enumerate(DATA_ORIGINS)}
    known: dict[int, dict[str, tuple[int, bool]]] = defaultdict(dict)
    for comment_id, label, value, origin in annotations.values_list(
        "comment_id", "label__name", "value", "origin"
    ).iterator(chunk_size=5000):
        current = known[comment_id].get(label)
        if current is None or rank[origin] >= current[0]:
            known[comment_id][label] = (rank[origin], value)
    comments = {
        pk: (external_id, source, text, language)
        for pk, external_id, source, text, language in Comment.objects.filter(pk__in=known.keys())
        .values_list("pk", "external_id", "source", "text", "language")
        .iterator(chunk_size=5000)
    }
    return [
        LabelledComment(comment_id, *comments[comment_id], {label: value for label, (_, value) in values.items()})
        for comment_id, values in sorted(known.items())
    ]


def evaluation_examples(*, labels: Sequence[str]) -> list[Example]:
    """The deployment's evaluation set: the labelled comments no version trains on (see
    training.data.in_evaluation_set), with their known labels."""
    return [
        Example(text=row.text, labels=row.labels, language=row.language)
        for row in labelled_comments(labels=labels, origins=DATA_ORIGINS)
        if in_evaluation_set(row.text)
    ]
