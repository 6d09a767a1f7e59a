"""Decisions POSTed to the admins' webhook URLs: signed, retried with back-off, logged.

Each body is signed like Stripe's: the header `X-ToxiScope-Signature: t=<unix time>,v1=<hex>`
carries HMAC-SHA256(secret, "<t>.<body>"), so a receiver can check both the sender and that
the request is fresh (a replayed request has an old t).
"""

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from moderation import jobs
from moderation.models import AuthorAction, Decision, Webhook, WebhookDelivery

SIGNATURE_HEADER = "X-ToxiScope-Signature"


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def decision_payload(decision: Decision, event: str) -> dict:
    comment = decision.comment
    return {
        "event": event,
        "decision": {
            "id": decision.pk,
            "action": decision.action,
            "reason": decision.reason,
            "labels": decision.labels,
            "moderator": decision.moderator.get_username(),
            "bulk": decision.is_bulk,
            "escalated_to": decision.escalated_to.slug if decision.escalated_to else None,
            "created_at": decision.created_at.isoformat(),
            "undone_at": decision.undone_at.isoformat() if decision.undone_at else None,
        },
        "comment": {
            "id": comment.pk,
            "external_id": comment.external_id,
            "source": comment.source,
            "author_id": comment.author_id,
            "status": comment.status,
        },
    }


def author_action_payload(author_action: AuthorAction, event: str) -> dict:
    comment = author_action.comment
    return {
        "event": event,
        "author": {
            "id": author_action.author_id,
            "action": author_action.action,
            "note": author_action.note,
            "moderator": author_action.moderator.get_username(),
            "created_at": author_action.created_at.isoformat(),
        },
        "comment": {"id": comment.pk, "external_id": comment.external_id, "source": comment.source},
    }


def webhook_deliveries_create_for_author(*, author_action: AuthorAction, event: str) -> list[WebhookDelivery]:
    """One delivery per active webhook, sent once the transaction commits, as for decisions."""
    payload = author_action_payload(author_action, event)
    return _deliveries_send(
        WebhookDelivery(webhook=webhook, author_action=author_action, event=event, payload=payload)
        for webhook in Webhook.objects.filter(is_active=True)
    )


def webhook_deliveries_create(*, decisions: Sequence[Decision], event: str) -> list[WebhookDelivery]:
    """One delivery per active webhook and decision; each is sent by a task once the
    transaction that made the decision commits (an undone transaction sends nothing)."""
    webhooks = list(Webhook.objects.filter(is_active=True)) if decisions else []
    return _deliveries_send(
        WebhookDelivery(webhook=webhook, decision=decision, event=event, payload=decision_payload(decision, event))
        for webhook in webhooks
        for decision in decisions
    )


def _deliveries_send(deliveries: Iterable[WebhookDelivery]) -> list[WebhookDelivery]:
    """Store the deliveries and send each by a task once the transaction commits."""
    deliveries = WebhookDelivery.objects.bulk_create(list(deliveries))
    if deliveries:
        jobs.webhook_deliveries(delivery_ids=[delivery.pk for delivery in deliveries])
    return deliveries


def webhook_deliveries_resend_due(*, grace_s: float = 300) -> int:
    """Re-send pending deliveries whose task never ran (broker down, worker lost): those
    `grace_s` past their due time. Returns how many were sent to the queue."""
    late = timezone.now() - timedelta(seconds=grace_s)
    due = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).filter(
        Q(next_attempt_at__lte=late) | Q(next_attempt_at__isnull=True, created_at__lte=late)
    )
    ids = list(due.values_list("pk", flat=True)[:1000])
    jobs.webhook_deliveries(delivery_ids=ids)
    return len(ids)


def retry_delay_s(attempts: int) -> float:
    """Exponential back-off: base, 2×base, 4×base, ... capped at an hour."""
    return min(settings.TOXISCOPE_WEBHOOK_BACKOFF_S * 2 ** (attempts - 1), 3600.0)


def webhook_delivery_attempt(*, delivery_id: int) -> float | None:
    """POST one delivery and log the outcome. Returns the seconds to wait before the next try,
    or None when there is none (delivered, given up after the last attempt, or nothing to do)."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("webhook")
            .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
            .first()
        )
        if delivery is None:
            return None  # delivered already, given up, or another worker has it now
        delivery.attempts += 1
        delivery.last_attempt_at = timezone.now()
        status_code, error = _post(delivery)
        delivery.last_status_code, delivery.last_error = status_code, error
        if status_code is not None and 200 <= status_code < 300:
            delivery.status, delivery.delivered_at = WebhookDelivery.Status.DELIVERED, timezone.now()
        elif delivery.attempts >= settings.TOXISCOPE_WEBHOOK_MAX_ATTEMPTS:
            delivery.status = WebhookDelivery.Status.FAILED
        else:
            delay = retry_delay_s(delivery.attempts)
            delivery.next_attempt_at = timezone.now() + timedelta(seconds=delay)
        delivery.save()
    if delivery.status == WebhookDelivery.Status.PENDING:
        return delay
    return None


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    request = urllib.request.Request(
        delivery.webhook.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "ToxiScope-Webhook/1",
            "X-ToxiScope-Event": delivery.event,
            "X-ToxiScope-Delivery": str(delivery.pk),
            SIGNATURE_HEADER: sign(delivery.webhook.secret, body, int(time.time())),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.TOXISCOPE_WEBHOOK_TIMEOUT_S) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code} {exc.reason}"
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return None, str(getattr(exc, "reason", exc))[:1000]
