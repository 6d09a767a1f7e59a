from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_default_queue(**kwargs) -> None:
    from moderation.services.review_queues import review_queue_ensure_default

    review_queue_ensure_default()


class ModerationConfig(AppConfig):
    name = "moderation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from moderation.api import schema  # noqa: F401 - registers the OpenAPI extensions

        post_migrate.connect(_ensure_default_queue, sender=self)
