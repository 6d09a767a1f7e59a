from django.conf import settings
from django.db import transaction

from moderation.models import ReviewQueue


@transaction.atomic
def review_queue_ensure_default(*, model: type[ReviewQueue] | None = None) -> ReviewQueue:
    """The queue that takes every comment no rule sends elsewhere (TOXISCOPE_DEFAULT_QUEUE);
    run after each `migrate`, so routing only ever reads it. `model`: the queue model as
    migrated (post_migrate's), when that is not the latest."""
    queue, _ = (model or ReviewQueue).objects.get_or_create(
        slug=ReviewQueue.default_slug(), defaults={"name": settings.TOXISCOPE_DEFAULT_QUEUE}
    )
    return queue
