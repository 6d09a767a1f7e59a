from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from moderation.engine.api_keys import forget_api_key
from moderation.models import ApiKey
from moderation.services.audit import audit_event_record


@transaction.atomic
def api_key_create(*, user, name: str, created_by=None) -> tuple[ApiKey, str]:
    """Create a key and return it with its raw secret, which is shown once and never stored."""
    secret = ApiKey.generate_raw_key()
    prefix = secret[: ApiKey.PREFIX_LENGTH]
    raw_key = f"{prefix}.{secret[ApiKey.PREFIX_LENGTH :]}"
    api_key = ApiKey.objects.create(user=user, name=name, prefix=prefix, key_hash=ApiKey.hash_secret(raw_key))
    audit_event_record(actor=created_by, action="api_key.create", target=api_key, after={"user": user.username})
    return api_key, raw_key


def api_key_mark_used(*, api_key: ApiKey) -> None:
    """Record when a key was last used: one UPDATE per key per minute at most, not one on
    every request (not audited: it is the key's use, not a person's change)."""
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > timedelta(seconds=60):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, revoked_by=None) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_event_record(actor=revoked_by, action="api_key.revoke", target=api_key)
        forget_api_key(api_key.key_hash)  # harmless if this rolls back: one more query, later
    return api_key


@transaction.atomic
def api_key_feedback_set(*, api_key: ApiKey, accepts: bool, changed_by) -> ApiKey:
    """Keep (or stop keeping) the feedback of this key's client as labels; audited."""
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if api_key.accepts_feedback != accepts:
        before = api_key.accepts_feedback
        api_key.accepts_feedback = accepts
        api_key.save(update_fields=["accepts_feedback"])
        audit_event_record(
            actor=changed_by,
            action="api_key.feedback",
            target=api_key,
            before={"accepts_feedback": before},
            after={"accepts_feedback": accepts},
        )
    return api_key
