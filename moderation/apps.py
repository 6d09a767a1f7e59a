from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_default_queue(apps=None, **kwargs) -> None:
    from moderation.services.review_queues import review_queue_ensure_default

    # The model as migrated so far: after a migration back, the queue table lacks later columns.
    review_queue_ensure_default(model=apps.get_model("moderation", "ReviewQueue") if apps else None)


class ModerationConfig(AppConfig):
    name = "moderation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from moderation.api import schema  # noqa: F401 - registers the OpenAPI extensions

        post_migrate.connect(_ensure_default_queue, sender=self)
