"""Rate limits counted in Redis, that fail open: with the Redis cache down, requests are served
(and the outage logged) rather than every API call failing because its counter cannot be read.

DRF's own throttles keep each client's request times in one cache entry, read and written whole
on every request: at the default 6,000 a minute, a list of up to 6,000 floats pickled twice a
request, over two round trips. That was a quarter of a submit's time (docs/benchmarks.md). These
keep two counts a client instead, the current window's and the last one's, and estimate the last
`duration` seconds from them (the last window's count weighted by how much of it is still inside
those seconds): one round trip, one script that reads both and counts only an allowed request.
The estimate assumes the last window's requests were spread evenly: after a burst at its start
a client waits longer than an exact count would make it, by up to duration / limit (0.01 s at
the default 6,000 a minute); Retry-After says how long.
"""

import logging
from functools import cache as memoise

import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from moderation.models import ApiKey

logger = logging.getLogger(__name__)

# KEYS: this window's count, the last window's. ARGV: the last window's weight, the limit, the
# counts' lifetime in seconds. Returns [allowed, this window's count, the last window's].
COUNT_IF_ALLOWED = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
if previous * tonumber(ARGV[1]) + current + 1 > tonumber(ARGV[2]) then
    return {0, current, previous}
end
redis.call('SET', KEYS[1], current + 1, 'EX', ARGV[3])
return {1, current + 1, previous}
"""


@memoise
def _count_script(location: str):
    """One client (and connection pool) per process and Redis address: the cache's own makes a
    client per call."""
    return redis.Redis.from_url(location).register_script(COUNT_IF_ALLOWED)


class WindowCountMixin:
    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        window, into = divmod(self.timer(), self.duration)
        weight = 1 - into / self.duration
        count = _count_script(settings.CACHES["default"]["LOCATION"])
        keys = [cache.make_key(f"{key}:{int(window) - back}") for back in (0, 1)]
        allowed, current, previous = count(keys=keys, args=[weight, self.num_requests, 2 * self.duration])
        if not allowed:
            self.wait_s = self._seconds_until_allowed(into, current, previous)
        return bool(allowed)

    def _seconds_until_allowed(self, into: float, current: int, previous: int) -> float:
        """When the estimate, with no more requests, has room for one again."""
        room = self.num_requests - 1
        if current <= room:  # later in this window, as the last one's weight falls
            return max(0.0, self.duration * (1 - (room - current) / previous) - into)
        # In the next window this one is the last one, weighted down from 1.
        return self.duration - into + self.duration * (1 - room / current)

    def wait(self) -> float:
        return self.wait_s


class FailOpenMixin:
    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # noqa: BLE001 - the cache backend's errors are not one type
            logger.warning("rate limit not applied: cache unavailable (%s)", exc)
            return True


class PerKeyRateThrottle(FailOpenMixin, WindowCountMixin, UserRateThrottle):
    """Per API key: two keys of one client account have a budget each. A session (a person in
    the browser calling the API) is counted per user."""

    scope = "key"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiKey):
            return self.cache_format % {"scope": self.scope, "ident": f"key-{request.auth.pk}"}
        return super().get_cache_key(request, view)


class PerIpRateThrottle(FailOpenMixin, WindowCountMixin, AnonRateThrottle):
    pass
