import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from moderation.models import AuditEvent, ModelVersion, RoutingRule
from moderation.services import api_key_create
from tests.factories import ApiClientFactory, ModeratorFactory, UserFactory, install_version

pytestmark = pytest.mark.django_db
URL = "/api/v1/routing-rules/"


@pytest.fixture
def admin_user():
    user = UserFactory(username="boss")
    user.groups.add(Group.objects.get(name="admin"))
    return user


@pytest.fixture
def admin_api(admin_user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_create(user=admin_user, name='a')[1]}")
    return client


def test_admins_list_rules_in_evaluation_order(admin_api):
    rules = admin_api.get(URL).json()["results"]
    assert [(r["label"], r["action"], r["queue"]) for r in rules] == [
        ("threat", "review", "urgent"),
        ("severe_toxic", "review", "urgent"),
        (None, "auto_approve", None),
    ]


def test_create_update_delete_are_audited(admin_api, admin_user):
    created = admin_api.post(
        URL, {"order": 5, "label": "toxic", "action": "auto_reject", "threshold": 0.97, "source": "kids"}, format="json"
    )
    assert created.status_code == 201, created.json()
    rule_id = created.json()["id"]
    updated = admin_api.patch(f"{URL}{rule_id}/", {"threshold": 0.9}, format="json")
    assert updated.status_code == 200 and updated.json()["threshold"] == 0.9
    assert admin_api.delete(f"{URL}{rule_id}/").status_code == 204
    assert RoutingRule.objects.get(pk=rule_id).is_active is False  # deactivated, kept for the record
    events = list(AuditEvent.objects.filter(target_type="moderation.routingrule").order_by("created_at", "id"))
    assert [e.action for e in events] == ["routing_rule.create", "routing_rule.update", "routing_rule.update"]
    assert events[2].before["is_active"] is True and events[2].after["is_active"] is False
    assert all(e.actor == admin_user for e in events)
    assert events[1].before["threshold"] == 0.97 and events[1].after["threshold"] == 0.9


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"action": "review", "label": "toxic"}, "queue"),
        ({"action": "auto_reject", "label": "toxic"}, "threshold"),
        ({"action": "auto_approve", "label": "toxic", "margin": 0.1}, "label"),
        ({"action": "auto_approve", "threshold": 0.1}, "threshold"),  # its figure is a margin
        ({"action": "review", "label": "toxic", "queue": "general", "margin": 0.1}, "margin"),
        ({"action": "auto_approve", "margin": -0.5}, "margin"),
        ({"action": "review", "label": "toxic", "queue": "general", "threshold": 1.5}, "threshold"),
        ({"action": "review", "label": "sarcasm", "queue": "general"}, "label"),
        ({"action": "explode"}, "action"),
    ],
)
def test_invalid_rules_are_400_with_field_messages(admin_api, payload, field):
    count = RoutingRule.objects.count()
    response = admin_api.post(URL, payload, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert RoutingRule.objects.count() == count


def test_only_admins_edit_rules():
    for user in (ApiClientFactory(), ModeratorFactory()):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_create(user=user, name='x')[1]}")
        assert client.get(URL).status_code == 403
    assert APIClient().get(URL).status_code == 401


def test_django_admin_edits_are_audited_and_promotion_is_an_action(client, admin_user, trained_artifact, artifacts_dir):
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    rule = RoutingRule.objects.get(action="auto_approve")
    response = client.post(
        f"/admin/moderation/routingrule/{rule.pk}/change/",
        {"order": 1000, "action": "auto_approve", "margin": 0.2, "source": "", "is_active": "on"},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="routing_rule.update")
    assert (event.before["margin"], event.after["margin"], event.actor) == (0.1, 0.2, admin_user)
    version = install_version(trained_artifact, artifacts_dir, "via-admin", status="candidate")
    client.post("/admin/moderation/modelversion/", {"action": "promote", "_selected_action": [version.pk]})
    assert ModelVersion.objects.get(pk=version.pk).status == "active"
    assert AuditEvent.objects.filter(action="model_version.promote", actor=admin_user).exists()


def test_no_rule_may_send_comments_to_the_teaching_queue(admin_api):
    """Its items are those the model would decide alone, chosen to be labelled within a budget."""
    answer = admin_api.post(URL, {"action": "review", "label": "toxic", "queue": "uncertain"}, format="json")
    assert answer.status_code == 400 and "teach the model" in answer.json()["queue"][0]


def test_no_rule_may_send_comments_to_the_blind_audit_queue(admin_api, admin_user):
    """Refused with a field message by the service (API and admin alike), and by the database
    for any other writer; a queue that rules target cannot become the audit queue either."""
    from django.db import IntegrityError, transaction

    from moderation.models import ReviewQueue

    audit = ReviewQueue.objects.get(is_audit=True)
    count = RoutingRule.objects.count()
    answer = admin_api.post(URL, {"action": "review", "label": "toxic", "queue": audit.slug}, format="json")
    assert answer.status_code == 400 and "audit" in answer.json()["queue"][0]
    rule = RoutingRule.objects.filter(action="review").first()
    assert admin_api.patch(f"{URL}{rule.pk}/", {"queue": audit.slug}, format="json").status_code == 400
    assert RoutingRule.objects.count() == count and RoutingRule.objects.get(pk=rule.pk).queue != audit
    with pytest.raises(IntegrityError), transaction.atomic():
        RoutingRule.objects.filter(pk=rule.pk).update(queue=audit)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoutingRule.objects.create(action="review", label=rule.label, queue=audit)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewQueue.objects.filter(pk=rule.queue_id).update(is_audit=True)
    targeted = rule.queue
    targeted.is_audit = True
    with pytest.raises(ValidationError, match="cannot be the audit queue"):
        targeted.full_clean()


def test_a_retired_queue_takes_nothing_new_and_keeps_its_open_items(admin_api, admin_user):
    """No active rule may target a retired queue (the service with a field message, the
    database for any other writer), a queue that active rules target cannot be retired, the
    default queue never is, and its open items stay listed until decided."""
    from django.db import IntegrityError, transaction

    from moderation.models import ReviewQueue
    from moderation.selectors.queues import queue_overview
    from moderation.services.records import record_save
    from tests.factories import ReviewItemFactory

    urgent = ReviewQueue.objects.get(slug="urgent")
    urgent.is_retired = True
    with pytest.raises(ValidationError, match="Active routing rules"):
        record_save(record=urgent, changed_by=admin_user)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewQueue.objects.filter(pk=urgent.pk).update(is_retired=True)
    RoutingRule.objects.filter(queue=urgent).update(is_active=False)
    record_save(record=urgent, changed_by=admin_user)
    assert AuditEvent.objects.filter(action="review_queue.update", target_id=str(urgent.pk)).exists()

    rule = RoutingRule.objects.filter(queue=urgent).first()
    answer = admin_api.patch(f"{URL}{rule.pk}/", {"is_active": True}, format="json")
    assert answer.status_code == 400 and "retired" in answer.json()["queue"][0]
    answer = admin_api.post(URL, {"action": "review", "label": "threat", "queue": "urgent"}, format="json")
    assert answer.status_code == 400 and "retired" in answer.json()["queue"][0]
    with pytest.raises(IntegrityError), transaction.atomic():
        RoutingRule.objects.filter(pk=rule.pk).update(is_active=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoutingRule.objects.create(action="review", label=rule.label, queue=urgent)
    # An inactive rule may still name it: history keeps the rule that routed old items.
    RoutingRule.objects.create(action="review", label=rule.label, queue=urgent, is_active=False)

    general = ReviewQueue.objects.get(slug=ReviewQueue.default_slug())
    general.is_retired = True
    with pytest.raises(ValidationError, match="default queue"):
        general.full_clean()

    shown = [summary.queue.slug for summary in queue_overview()]
    assert "urgent" not in shown  # retired and empty
    ReviewItemFactory(queue=urgent)
    assert "urgent" in [summary.queue.slug for summary in queue_overview()]  # until its items are decided
