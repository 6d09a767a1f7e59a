import hmac

from django.utils import timezone
from rest_framework import authentication, exceptions

from moderation.engine.api_keys import recent_api_key, remember_api_key
from moderation.models import ApiKey
from moderation.roles import user_roles

KEYWORD = "Api-Key"


def user_for_raw_key(raw_key: str):
    """The user a raw API key belongs to, or AuthenticationFailed."""
    key_hash = ApiKey.hash_secret(raw_key)
    recent = recent_api_key(key_hash)
    if recent is not None:
        return recent
    prefix = raw_key.split(".", 1)[0]
    api_key = ApiKey.objects.select_related("user").filter(prefix=prefix).first()
    if api_key is None or not hmac.compare_digest(api_key.key_hash, key_hash):
        raise exceptions.AuthenticationFailed("Invalid API key.")
    if api_key.revoked_at is not None:
        raise exceptions.AuthenticationFailed("This API key has been revoked.")
    if not api_key.user.is_active:
        raise exceptions.AuthenticationFailed("The user of this API key is inactive.")
    # One write per key per minute at most: no extra write on every request.
    now = timezone.now()
    if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
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
        return user_for_raw_key(raw_key)

    def authenticate_header(self, request) -> str:
        return KEYWORD
