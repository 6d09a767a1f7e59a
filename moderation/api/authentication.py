import hmac
import logging
import re

from django.conf import settings
from django.core.cache import cache
from rest_framework import authentication, exceptions
from rest_framework.throttling import BaseThrottle

from moderation.engine.api_keys import recent_api_key, remember_api_key
from moderation.models import ApiKey
from moderation.roles import user_roles
from moderation.services.api_keys import api_key_mark_used

KEYWORD = "Api-Key"
# What a key can look like (secrets.token_urlsafe, with its prefix): anything else, a NUL or a
# lone surrogate from a query string say, is refused before it reaches a hash or the database.
KEY_SHAPE = re.compile(r"[A-Za-z0-9_.\-]{1,200}")
logger = logging.getLogger(__name__)


def user_for_raw_key(request, raw_key: str):
    """The user a raw API key belongs to, or AuthenticationFailed. An address that has sent too
    many wrong keys in the last minute gets 429s instead, whatever key it sends."""
    if not KEY_SHAPE.fullmatch(raw_key):
        raise exceptions.AuthenticationFailed("Invalid API key.")
    key_hash = ApiKey.hash_secret(raw_key)
    recent = recent_api_key(key_hash)
    if recent is not None:
        return recent
    failures_key = f"api-key-failures:{BaseThrottle().get_ident(request)}"
    if _cached(cache.get, failures_key, 0, default=0) >= settings.TOXISCOPE_API_KEY_FAILURES_PER_MINUTE:
        raise exceptions.Throttled(wait=60, detail="Too many wrong API keys from this address; try again later.")
    try:
        return _check(raw_key, key_hash)
    except exceptions.AuthenticationFailed:
        _cached(cache.add, failures_key, 0, 60)
        _cached(cache.incr, failures_key)
        raise


def _cached(operation, *args, default=None):
    """A cache call that fails open, like the rate limits: with Redis down, keys still work."""
    try:
        return operation(*args)
    except Exception as exc:  # noqa: BLE001 - the cache backend's errors are not one type
        logger.warning("API key failure count not kept: cache unavailable (%s)", exc)
        return default


def _check(raw_key: str, key_hash: str):
    prefix = raw_key.split(".", 1)[0]
    api_key = ApiKey.objects.select_related("user").filter(prefix=prefix).first()
    if api_key is None or not hmac.compare_digest(api_key.key_hash, key_hash):
        raise exceptions.AuthenticationFailed("Invalid API key.")
    if api_key.revoked_at is not None:
        raise exceptions.AuthenticationFailed("This API key has been revoked.")
    if not api_key.user.is_active:
        raise exceptions.AuthenticationFailed("The user of this API key is inactive.")
    api_key_mark_used(api_key=api_key)
    user_roles(api_key.user)  # read now, kept with the user while the key is remembered
    remember_api_key(key_hash, api_key.user, api_key)
    return api_key.user, api_key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key <key>`."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace").lower() != KEYWORD.lower():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(f"Use 'Authorization: {KEYWORD} <key>'.")
        try:
            raw_key = header[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid API key.") from None
        return user_for_raw_key(request, raw_key)

    def authenticate_header(self, request) -> str:
        return KEYWORD
