from django.conf import settings
from django.db import transaction

from moderation.engine.config import default_queue_slug
from moderation.models import ReviewQueue


@transaction.atomic
def review_queue_ensure_default() -> ReviewQueue:
    """The queue that takes every comment no rule sends elsewhere (TOXISCOPE_DEFAULT_QUEUE);
    run after each `migrate`, so routing only ever reads it."""
    queue, _ = ReviewQueue.objects.get_or_create(
        slug=default_queue_slug(), defaults={"name": settings.TOXISCOPE_DEFAULT_QUEUE}
    )
    return queue
