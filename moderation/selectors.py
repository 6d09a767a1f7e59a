"""Every non-trivial read."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from moderation.models import Comment, LabelAnnotation
from training.data import Example


def aware(iso: str) -> datetime:
    moment = datetime.fromisoformat(iso)
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def comments_of_client(*, client) -> QuerySet[Comment]:
    return Comment.objects.filter(client=client).order_by("-created_at", "-id")


def training_examples(
    *, labels: Sequence[str], origins: Sequence[str], since: str | None = None, until: str | None = None
) -> list[Example]:
    """Every comment with at least one known label among `labels`, from annotations of the
    given origins. A moderator's value beats an imported one; a label without an annotation
    stays unknown. `since`/`until` filter on when the annotation was made."""
    annotations = LabelAnnotation.objects.filter(origin__in=origins, label__name__in=labels)
    if since:
        annotations = annotations.filter(updated_at__gte=aware(since))
    if until:
        annotations = annotations.filter(updated_at__lte=aware(until))
    rank = {LabelAnnotation.Origin.IMPORTED: 0, LabelAnnotation.Origin.MODERATOR: 1}
    known: dict[int, dict[str, tuple[int, bool]]] = defaultdict(dict)
    for comment_id, label, value, origin in annotations.values_list(
        "comment_id", "label__name", "value", "origin"
    ).iterator(chunk_size=5000):
        current = known[comment_id].get(label)
        if current is None or rank[origin] >= current[0]:
            known[comment_id][label] = (rank[origin], value)
    texts = dict(Comment.objects.filter(pk__in=known.keys()).values_list("pk", "text").iterator(chunk_size=5000))
    return [
        Example(text=texts[comment_id], labels={label: value for label, (_, value) in values.items()})
        for comment_id, values in sorted(known.items())
    ]
