"""The routing configuration (rules, label severities, queues), cached per process.

Routing runs on every submit; reading the rules each time would be four queries per request.
Each process keeps them for `TOXISCOPE_MODEL_CHECK_INTERVAL_S` seconds, like the active model,
and drops them at once when a rule is edited in this process: an edit reaches every process
within that interval. Loading only reads: the default queue is created by `migrate`
(services.review_queues).
"""

import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from moderation.engine.rules import Rule
from moderation.models import Label, ModelVersion, ReviewQueue, RoutingRule


@dataclass(frozen=True)
class RoutingConfig:
    rules: list[Rule]
    severity: dict[str, float]
    queues: dict[str, ReviewQueue]
    default_queue: ReviewQueue
    audit_queue: ReviewQueue | None
    teaching_queue: ReviewQueue | None  # TOXISCOPE_TEACH_QUEUE's, if it exists (engine/teaching.py)
    has_shadow: bool  # a shadow version scores every comment too (services/model_versions.py)


def _rules() -> list[Rule]:
    """The active routing rules as plain values for the rule engine."""
    return [
        Rule(
            id=rule.pk,
            order=rule.order,
            action=rule.action,
            label=rule.label.name if rule.label else None,
            threshold=rule.threshold,
            margin=rule.margin,
            queue=rule.queue.slug if rule.queue else None,
            source=rule.source,
        )
        for rule in RoutingRule.objects.filter(is_active=True).select_related("label", "queue")
    ]


def _load() -> RoutingConfig:
    queues = {queue.slug: queue for queue in ReviewQueue.objects.order_by("pk")}
    default = queues.get(ReviewQueue.default_slug())
    if default is None:
        raise ImproperlyConfigured(
            f"the default review queue {settings.TOXISCOPE_DEFAULT_QUEUE!r} does not exist: run `manage.py migrate`"
        )
    return RoutingConfig(
        rules=_rules(),
        severity=dict(Label.objects.values_list("name", "severity")),
        queues=queues,
        default_queue=default,
        audit_queue=next((queue for queue in queues.values() if queue.is_audit), None),
        teaching_queue=queues.get(settings.TOXISCOPE_TEACH_QUEUE),
        has_shadow=ModelVersion.objects.filter(is_shadow=True).exists(),
    )


class RoutingConfigCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._config: RoutingConfig | None = None
        self._loaded_at = float("-inf")

    def get(self) -> RoutingConfig:
        with self._lock:
            if self._config is None or time.monotonic() - self._loaded_at >= settings.TOXISCOPE_MODEL_CHECK_INTERVAL_S:
                self._config = _load()
                self._loaded_at = time.monotonic()
            return self._config

    def invalidate(self) -> None:
        with self._lock:
            self._config = None


routing_config = RoutingConfigCache()
