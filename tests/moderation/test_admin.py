"""The Django admin writes through the services: every change it offers leaves the same audit
event as the service that owns the write, and it refuses what the service would refuse."""

import pytest
from django.core.cache import cache
from django.forms.models import model_to_dict

from moderation.models import (
    ApiKey,
    AuditEvent,
    DecisionReason,
    Label,
    ModelVersion,
    ReviewQueue,
    RoutingRule,
    TrainingRun,
    Webhook,
)
from moderation.services import api_key_create, api_key_revoke, model_version_promote_gated, records, routing_rules
from moderation.services.model_versions import model_version_measure
from moderation.services.training import training_run_cancel
from tests.factories import AdminFactory, ApiClientFactory, TrainingRunFactory, WebhookFactory, install_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = AdminFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def _form(record, **changes) -> dict:
    """The change form as a browser would post it: booleans present only when true."""
    data = {key: value for key, value in (model_to_dict(record) | changes).items() if value is not None}
    return {key: ("on" if value is True else value) for key, value in data.items() if value is not False}


def _url(model, record=None, verb="change") -> str:
    name = model._meta.model_name
    return f"/admin/moderation/{name}/{record.pk}/{verb}/" if record else f"/admin/moderation/{name}/add/"


def _latest_action(target: tuple[str, str]) -> str:
    return (
        AuditEvent.objects.filter(target_type=target[0], target_id=target[1]).order_by("-created_at", "-id")[0].action
    )


def _target(record) -> tuple[str, str]:
    return record._meta.label_lower, str(record.pk)


def _rule():
    return RoutingRule.objects.filter(action="review").order_by("pk").first()


def _new_rule_values() -> dict:
    rule = _rule()
    return {"order": 55, "label": rule.label, "action": "review", "threshold": 0.4, "queue": rule.queue}


def _action(model, name, record):
    return f"/admin/moderation/{model._meta.model_name}/", {"action": name, "_selected_action": [record.pk]}


# The webhook page's read-only inline of deliveries, posted empty.
NO_DELIVERY_ROWS = {
    f"deliveries-{key}": 0 for key in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS")
}

# Each row: a way to make a record, the admin's way to change it (a POST), the service's way to
# make the same change on another record of the kind.
CASES = {
    "routing rule update": (
        _rule,
        lambda rule: (_url(RoutingRule, rule), _form(rule, threshold=0.33)),
        lambda rule, user: routing_rules.routing_rule_update(rule=rule, changed_by=user, threshold=0.34),
    ),
    "routing rule create": (
        None,
        lambda _: (_url(RoutingRule), _form(RoutingRule(**_new_rule_values()), is_active=True)),
        lambda _, user: routing_rules.routing_rule_create(changed_by=user, **_new_rule_values()),
    ),
    "label update": (
        lambda: Label.objects.get(name="threat"),
        lambda label: (_url(Label, label), _form(label, severity=2.5)),
        lambda label, user: records.record_save(record=label, changed_by=user),
    ),
    "queue create": (
        None,
        lambda _: (_url(ReviewQueue), {"name": "Escalations", "slug": "escalations", "sla_minutes": 60}),
        lambda _, user: records.record_save(record=ReviewQueue(name="Other", slug="other"), changed_by=user),
    ),
    "decision reason delete": (
        lambda: DecisionReason.objects.create(text=f"reason {DecisionReason.objects.count()}"),
        lambda reason: (_url(DecisionReason, reason, "delete"), {"post": "yes"}),
        lambda reason, user: records.record_delete(record=reason, changed_by=user),
    ),
    "webhook update": (
        WebhookFactory,
        lambda hook: (_url(Webhook, hook), _form(hook, url="http://127.0.0.1:9/other") | NO_DELIVERY_ROWS),
        lambda hook, user: records.record_save(record=hook, changed_by=user),
    ),
    "model version promote": (
        "version",
        lambda version: _action(ModelVersion, "promote", version),
        lambda version, user: model_version_promote_gated(version=version, promoted_by=user),
    ),
    "api key revoke": (
        lambda: api_key_create(user=ApiClientFactory(), name="site")[0],
        lambda key: _action(ApiKey, "revoke", key),
        lambda key, user: api_key_revoke(api_key=key, revoked_by=user),
    ),
    "training run cancel": (
        TrainingRunFactory,
        lambda run: _action(TrainingRun, "cancel", run),
        lambda run, user: training_run_cancel(run=run, cancelled_by=user),
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_an_admin_change_writes_the_audit_event_its_service_writes(
    case, client, staff, trained_artifact, artifacts_dir, settings
):
    settings.TOXISCOPE_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]  # the webhooks' URLs are loopback ones
    make, admin_change, service_change = CASES[case]
    count = iter(range(100))

    def new_record():
        if make == "version":
            return install_version(trained_artifact, artifacts_dir, f"v{next(count)}", status="candidate")
        return make() if make else None

    through_admin, through_service = new_record(), new_record()
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    url, data = admin_change(through_admin)
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    admin_events = list(AuditEvent.objects.exclude(pk__in=before))
    assert [event.actor for event in admin_events] == [staff]
    existing = _target(through_service) if through_service else None  # a delete clears the pk
    served = service_change(through_service, staff)
    assert admin_events[0].action == _latest_action(existing or _target(served))


def test_the_admin_refuses_a_rule_the_service_refuses(client, staff):
    values = _new_rule_values() | {"queue": None}  # a review rule needs a queue
    response = client.post(_url(RoutingRule), _form(RoutingRule(**values), is_active=True))
    assert response.status_code == 200 and "A review rule needs a queue." in response.content.decode()
    assert not RoutingRule.objects.filter(order=55).exists()
    assert not AuditEvent.objects.filter(action="routing_rule.create").exists()


def test_model_versions_change_only_through_actions(client, staff, trained_artifact, artifacts_dir):
    version = install_version(trained_artifact, artifacts_dir, "shadowless", status="candidate")
    response = client.post(_url(ModelVersion, version), _form(version, is_shadow=True))
    assert response.status_code == 403
    assert not ModelVersion.objects.get(pk=version.pk).is_shadow


def test_the_admins_promotion_is_gated(client, staff, trained_artifact, active_version, artifacts_dir, demo_data):
    # Thresholds of 0.999 flag nothing: a macro-F1 far under the active version's.
    hopeless = dict.fromkeys(trained_artifact.thresholds, 0.999)
    worse = install_version(trained_artifact, artifacts_dir, "worse", status="candidate", thresholds=hopeless)
    # Not measured yet: the promotion waits, and asks a worker now (the action's transaction
    # rolls back with the refusal, so a send on commit would be lost).
    response = client.post(*_action(ModelVersion, "promote", worse), follow=True)
    assert "still being compared" in response.content.decode()
    assert cache.get(f"measure-requested:{worse.pk}") and ModelVersion.objects.get(pk=worse.pk).status == "candidate"
    model_version_measure(version_id=worse.pk)  # what that worker does
    response = client.post(*_action(ModelVersion, "promote", worse), follow=True)
    assert "worse than the active version" in response.content.decode()
    assert ModelVersion.objects.get(pk=worse.pk).status == "candidate"
