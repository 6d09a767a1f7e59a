"""Decisions POSTed to the admins' webhook URLs: signed, retried with back-off, logged.

Each body is signed like Stripe's: the header `X-ToxiScope-Signature: t=<unix time>,v1=<hex>`
carries HMAC-SHA256(secret, "<t>.<body>"), so a receiver can check both the sender and that
the request is fresh (a replayed request has an old t).
"""

import contextlib
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from moderation import jobs, webhook_urls
from moderation.models import AuthorAction, Decision, DriftSnapshot, Webhook, WebhookDelivery

SIGNATURE_HEADER = "X-ToxiScope-Signature"


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def comment_reference(comment) -> dict:
    """The comment as every webhook names it: enough to find it, never its text (a receiver
    that needs the text asks the API, under its own key)."""
    return {
        "id": comment.pk,
        "external_id": comment.external_id,
        "source": comment.source,
        "author_id": comment.author_id,
        "status": comment.status,
    }


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
        "comment": comment_reference(comment),
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
        "comment": comment_reference(comment),
    }


def webhook_deliveries_create_for_author(*, author_action: AuthorAction, event: str) -> list[WebhookDelivery]:
    """One delivery per active webhook, sent once the transaction commits, as for decisions."""
    payload = author_action_payload(author_action, event)
    return _deliveries_send(
        WebhookDelivery(webhook=webhook, author_action=author_action, event=event, payload=payload)
        for webhook in Webhook.objects.filter(is_active=True)
    )


def drift_payload(snapshot: DriftSnapshot, event: str) -> dict:
    return {
        "event": event,
        "model_version": snapshot.model_version.name,
        "drift": {
            "day": snapshot.day.isoformat(),
            "alarms": snapshot.alarms,
            "comments": snapshot.comments,
            "labels": snapshot.labels,
            "length_psi": snapshot.length_psi,
            "vocabulary_miss": snapshot.vocabulary_miss,
            "languages": snapshot.languages,
        },
    }


def webhook_deliveries_create_for_drift(*, snapshot: DriftSnapshot, event: str) -> list[WebhookDelivery]:
    """One delivery per active webhook, sent once the transaction commits, as for decisions."""
    payload = drift_payload(snapshot, event)
    return _deliveries_send(
        WebhookDelivery(webhook=webhook, drift_snapshot=snapshot, event=event, payload=payload)
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
    or None when there is none (delivered, given up after the last attempt, or nothing to do).
    The POST runs outside any transaction: a slow receiver holds no lock that others wait on.
    The claim, committed first, counts the attempt, so a worker lost mid-POST spends one."""
    delivery = _delivery_claim(delivery_id)
    if delivery is None:
        return None
    status_code, error = _post(delivery)
    return _delivery_record(delivery, status_code, error)


@transaction.atomic
def _delivery_claim(delivery_id: int) -> WebhookDelivery | None:
    now = timezone.now()
    delivery = (
        WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("webhook")
        .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
        .filter(Q(sending_until__isnull=True) | Q(sending_until__lt=now))
        .first()
    )
    if delivery is None:
        return None  # delivered already, given up, or another worker is sending it now
    if not delivery.webhook.is_active:  # deactivating a webhook stops what it had pending
        delivery.status, delivery.last_error = WebhookDelivery.Status.FAILED, "the webhook was deactivated"
        delivery.save(update_fields=["status", "last_error"])
        return None
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.sending_until = now + timedelta(seconds=_deadline_s() + 60)
    delivery.save(update_fields=["attempts", "last_attempt_at", "sending_until"])
    return delivery


@transaction.atomic
def _delivery_record(delivery: WebhookDelivery, status_code: int | None, error: str) -> float | None:
    delivery.last_status_code, delivery.last_error, delivery.sending_until = status_code, error, None
    delay = None
    if status_code is not None and 200 <= status_code < 300:
        delivery.status, delivery.delivered_at = WebhookDelivery.Status.DELIVERED, timezone.now()
    elif delivery.attempts >= settings.TOXISCOPE_WEBHOOK_MAX_ATTEMPTS:
        delivery.status = WebhookDelivery.Status.FAILED
    else:
        delay = retry_delay_s(delivery.attempts)
        delivery.next_attempt_at = timezone.now() + timedelta(seconds=delay)
    delivery.save()
    return delay


def _deadline_s() -> float:
    """The whole exchange's limit: the per-read timeout alone lets a receiver that drips a
    header every few seconds keep the worker for ever."""
    return 2 * settings.TOXISCOPE_WEBHOOK_TIMEOUT_S


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """(status, error) of one POST. Every failure is an outcome, never an exception: a receiver
    that answers no HTTP at all, or too many headers, is a failed attempt like a refused one."""
    try:
        target = webhook_urls.resolve(delivery.webhook.url)  # again: DNS may have changed
    except webhook_urls.RefusedByPolicy as exc:
        return None, str(exc)
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "ToxiScope-Webhook/1",
        "X-ToxiScope-Event": delivery.event,
        "X-ToxiScope-Delivery": str(delivery.pk),
        SIGNATURE_HEADER: sign(delivery.webhook.secret, body, int(time.time())),
    }
    connection = webhook_urls.connection(target, settings.TOXISCOPE_WEBHOOK_TIMEOUT_S)
    cut = threading.Event()
    watchdog = threading.Timer(_deadline_s(), _cut, [connection, cut])
    watchdog.start()
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        status, reason = response.status, response.reason
    except Exception as exc:  # noqa: BLE001 - whatever the receiver did, the attempt failed
        status, reason = None, f"{type(exc).__name__}: {exc}"[:1000]
    finally:
        watchdog.cancel()
        connection.close()
    if cut.is_set():  # a cut connection reads as an end of headers: not an answer
        return None, "no answer within the time limit"
    if status is None:
        return None, reason
    if 300 <= status < 400:
        return status, f"HTTP {status}: redirects are not followed"
    return status, "" if status < 300 else f"HTTP {status} {reason}"[:1000]


def _cut(connection, cut: threading.Event) -> None:
    cut.set()
    if connection.sock is not None:
        with contextlib.suppress(OSError):
            connection.sock.shutdown(socket.SHUT_RDWR)
