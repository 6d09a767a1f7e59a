"""The routing configuration (rules, label severities, queues), cached per process.

Routing runs on every submit; reading the rules each time would be four queries per request.
Each process keeps them for `TOXISCOPE_MODEL_CHECK_INTERVAL_S` seconds, like the active model,
and drops them at once when a rule is edited in this process: an edit reaches every process
within that interval.
"""

import threading
import time
from dataclasses import dataclass

from django.conf import settings

from moderation import selectors
from moderation.models import ModelVersion, ReviewQueue
from moderation.routing import Rule


@dataclass(frozen=True)
class RoutingConfig:
    rules: list[Rule]
    severity: dict[str, float]
    queues: dict[str, ReviewQueue]
    default_queue: ReviewQueue
    audit_queue: ReviewQueue | None
    has_shadow: bool  # a shadow version scores every comment too (services/model_lifecycle.py)


class RoutingConfigCache:
    def __init__(self):
        self._lock = threading.Lock()
        self._config: RoutingConfig | None = None
        self._loaded_at = float("-inf")

    def get(self) -> RoutingConfig:
        with self._lock:
            if self._config is None or time.monotonic() - self._loaded_at >= settings.TOXISCOPE_MODEL_CHECK_INTERVAL_S:
                self._config = self._load()
                self._loaded_at = time.monotonic()
            return self._config

    @staticmethod
    def _load() -> RoutingConfig:
        default, _ = ReviewQueue.objects.get_or_create(
            slug=selectors.default_queue_slug(), defaults={"name": settings.TOXISCOPE_DEFAULT_QUEUE}
        )
        return RoutingConfig(
            rules=selectors.routing_rules(),
            severity=selectors.label_severity(),
            queues={queue.slug: queue for queue in ReviewQueue.objects.all()},
            default_queue=default,
            audit_queue=ReviewQueue.objects.filter(is_audit=True).order_by("pk").first(),
            has_shadow=ModelVersion.objects.filter(is_shadow=True).exists(),
        )

    def invalidate(self) -> None:
        with self._lock:
            self._config = None


routing_config = RoutingConfigCache()
