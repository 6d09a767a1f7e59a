"""Where a comment goes after it is stored.

Until a model is active there are no scores to route by: every comment waits for a person in
the default queue. The classification issue adds scoring and the rule engine here.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.text import slugify

from moderation.models import Comment, ReviewItem, ReviewQueue

NO_MODEL_REASON = "no active model: every comment is reviewed by a person"


@dataclass(frozen=True)
class Route:
    action: str
    queue: str | None
    reason: str


def default_queue() -> ReviewQueue:
    name = settings.TOXISCOPE_DEFAULT_QUEUE
    queue, _ = ReviewQueue.objects.get_or_create(slug=slugify(name), defaults={"name": name})
    return queue


def comment_route(*, comment: Comment) -> Route:
    queue = default_queue()
    ReviewItem.objects.create(comment=comment, queue=queue, reason=NO_MODEL_REASON)
    return Route(action="review", queue=queue.slug, reason=NO_MODEL_REASON)
