from typing import Any

from django.db import models

from moderation.models import AuditEvent


def audit_event_record(
    *, actor, action: str, target: models.Model, before: Any = None, after: Any = None
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        before=before,
        after=after,
    )
