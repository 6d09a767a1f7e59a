"""Rate limits that fail open: with the Redis cache down, requests are served (and the outage
logged) rather than every API call failing because its counter cannot be read."""

import logging

from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from moderation.models import ApiKey

logger = logging.getLogger(__name__)


class FailOpenMixin:
    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # noqa: BLE001 - the cache backend's errors are not one type
            logger.warning("rate limit not applied: cache unavailable (%s)", exc)
            return True


class PerKeyRateThrottle(FailOpenMixin, UserRateThrottle):
    """Per API key: two keys of one client account have a budget each. A session (a person in
    the browser calling the API) is counted per user."""

    scope = "key"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiKey):
            return self.cache_format % {"scope": self.scope, "ident": f"key-{request.auth.pk}"}
        return super().get_cache_key(request, view)


class PerIpRateThrottle(FailOpenMixin, AnonRateThrottle):
    pass
