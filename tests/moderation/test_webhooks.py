"""Decisions POSTed to a real local HTTP receiver: signature, retries with back-off, the log."""

import hashlib
import hmac
import json
from email.message import Message

import pytest
from django.db import transaction

from moderation.models import WebhookDelivery
from moderation.services import webhooks
from moderation.services.review import decision_undo, review_item_decide
from tests.factories import ModeratorFactory, ReviewItemFactory, WebhookFactory

pytestmark = pytest.mark.django_db


def verify(secret: str, headers: Message, body: bytes) -> bool:
    """What a receiver does with the signature header."""
    fields = dict(part.split("=", 1) for part in headers["X-ToxiScope-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


def decide(action="reject", labels=None):
    item = ReviewItemFactory(comment__external_id="client-42")
    return review_item_decide(item_id=item.pk, moderator=ModeratorFactory(), action=action, labels=labels or {})


def test_a_decision_is_delivered_signed(receiver):
    endpoint = receiver()
    hook = WebhookFactory(url=endpoint.url)
    decision = decide(labels={"toxic": True})
    delivery = WebhookDelivery.objects.get(webhook=hook, decision=decision)
    assert webhooks.webhook_delivery_attempt(delivery_id=delivery.pk) is None
    headers, body = endpoint.requests[0]
    assert verify(hook.secret, headers, body)
    assert not verify("wrong secret", headers, body)
    payload = json.loads(body)
    assert payload["event"] == "decision.created" and headers["X-ToxiScope-Event"] == "decision.created"
    assert payload["decision"]["action"] == "reject" and payload["decision"]["labels"] == {"toxic": True}
    assert payload["comment"]["external_id"] == "client-42" and payload["comment"]["status"] == "rejected"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)


def test_a_failing_receiver_is_retried_with_back_off_then_given_up(receiver, settings):
    settings.TOXISCOPE_WEBHOOK_MAX_ATTEMPTS = 3
    endpoint = receiver(statuses=[500, 503, 502])
    hook = WebhookFactory(url=endpoint.url)
    delivery = WebhookDelivery.objects.get(webhook=hook, decision=decide())
    delays = [webhooks.webhook_delivery_attempt(delivery_id=delivery.pk) for _ in range(3)]
    assert delays == [settings.TOXISCOPE_WEBHOOK_BACKOFF_S, settings.TOXISCOPE_WEBHOOK_BACKOFF_S * 2, None]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 3, 502)
    assert len(endpoint.requests) == 3


def test_a_receiver_that_recovers_gets_the_delivery(receiver):
    endpoint = receiver(statuses=[503])
    hook = WebhookFactory(url=endpoint.url)
    delivery = WebhookDelivery.objects.get(webhook=hook, decision=decide())
    assert webhooks.webhook_delivery_attempt(delivery_id=delivery.pk) is not None
    assert webhooks.webhook_delivery_attempt(delivery_id=delivery.pk) is None
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 2


def test_an_unreachable_receiver_is_logged():
    hook = WebhookFactory(url="http://127.0.0.1:9/nothing-listens")
    delivery = WebhookDelivery.objects.get(webhook=hook, decision=decide())
    assert webhooks.webhook_delivery_attempt(delivery_id=delivery.pk) is not None
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.last_status_code is None and delivery.last_error


def test_an_undo_is_delivered_too_and_inactive_hooks_get_nothing():
    live, _ = WebhookFactory(), WebhookFactory(is_active=False)
    item = ReviewItemFactory()
    moderator = ModeratorFactory()
    review_item_decide(item_id=item.pk, moderator=moderator, action="approve")
    decision_undo(moderator=moderator)
    assert sorted(WebhookDelivery.objects.values_list("webhook", "event")) == [
        (live.pk, "decision.created"),
        (live.pk, "decision.undone"),
    ]


def test_deliveries_are_sent_only_once_the_decision_commits(django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr("moderation.jobs._send", lambda name, args, task_id=None: sent.extend(args))
    WebhookFactory()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        delivery_id = WebhookDelivery.objects.get(decision=decide()).pk
        assert sent == []
    assert sent == [delivery_id]
