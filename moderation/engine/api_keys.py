"""API keys a process has checked recently, so a client's every request skips two queries (the
key, the user's roles). A revocation forgets the key at once in the process that made it; the
others trust it at most TOXISCOPE_API_KEY_CACHE_S seconds more."""

import threading
import time

from django.conf import settings

MAX_KEYS = 10_000  # bounded: many clients, or a flood of valid keys

_recent: dict[str, tuple[float, object, object]] = {}  # key hash -> (checked at, user, ApiKey)
_lock = threading.Lock()


def recent_api_key(key_hash: str) -> tuple[object, object] | None:
    """(user, ApiKey) for a key checked within the cache time, else None."""
    entry = _recent.get(key_hash)
    if entry is None or time.monotonic() - entry[0] >= settings.TOXISCOPE_API_KEY_CACHE_S:
        return None
    return entry[1], entry[2]


def remember_api_key(key_hash: str, user: object, api_key: object) -> None:
    with _lock:
        if len(_recent) >= MAX_KEYS:
            _recent.clear()
        _recent[key_hash] = (time.monotonic(), user, api_key)


def forget_api_key(key_hash: str) -> None:
    with _lock:
        _recent.pop(key_hash, None)
