"""The daily drift snapshot of the active version, and its alarm (selectors/drift.py measures)."""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from moderation.models import DriftSnapshot, ModelVersion
from moderation.selectors.drift import drift_alarm_ongoing, drift_measure
from moderation.services.audit import audit_event_record
from moderation.services.training import training_retrain_if_due
from moderation.services.webhooks import webhook_deliveries_create_for_drift

logger = logging.getLogger(__name__)

DRIFT_EVENT = "model.drift"


def drift_snapshot_record() -> DriftSnapshot | None:
    """Measure the active version's drift now and keep it as today's snapshot (refreshed through
    the day). The first alarm of an episode (the snapshot before had none) is announced once:
    an audited `model.drift` event, a signed webhook to every active hook, and, where allowed,
    a retrain. None without an active version or enough live comments to measure."""
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    if active is None:
        return None
    drift = drift_measure(active)  # scoring, outside any transaction
    if drift is None:
        return None
    with transaction.atomic():
        snapshot, _ = DriftSnapshot.objects.select_for_update().update_or_create(
            model_version=active,
            day=timezone.localdate(),
            defaults={
                "comments": drift.comments,
                "labels": drift.labels,
                "length_psi": drift.length_psi,
                "vocabulary_miss": drift.vocabulary_miss,
                "languages": drift.languages,
                "alarms": drift.alarms,
            },
        )
        alarm = bool(drift.alarms) and snapshot.alarm_sent_at is None and not drift_alarm_ongoing(snapshot)
        if alarm:
            _alarm(snapshot)
    if alarm and settings.TOXISCOPE_DRIFT_RETRAIN:
        try:
            training_retrain_if_due(drifted=True)
        except ValidationError as exc:  # e.g. runs enough already: the alarm stands without one
            logger.warning("drift: no retrain started: %s", exc)
    return snapshot


def _alarm(snapshot: DriftSnapshot) -> None:
    snapshot.alarm_sent_at = timezone.now()
    snapshot.save(update_fields=["alarm_sent_at"])
    version = snapshot.model_version
    logger.warning("model %s has drifted: %s", version.name, "; ".join(snapshot.alarms))
    audit_event_record(
        actor=None,
        action=DRIFT_EVENT,
        target=version,
        after={"day": snapshot.day.isoformat(), "alarms": snapshot.alarms, "comments": snapshot.comments},
    )
    webhook_deliveries_create_for_drift(snapshot=snapshot, event=DRIFT_EVENT)
