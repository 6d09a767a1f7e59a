from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from moderation.models import ModelVersion
from moderation.services.audit import audit_event_record
from moderation.services.scoring import active_model
from training.artifacts import ArtifactError, verify_artifact


@transaction.atomic
def model_version_promote(*, version: ModelVersion, promoted_by=None) -> ModelVersion:
    """Make `version` the one active version, in one transaction: the previous active one is
    retired in the same commit, so exactly one is active at every instant. Promoting a retired
    version is a rollback. Every serving process picks the change up within seconds."""
    try:
        verify_artifact(version.artifact_path, settings.TOXISCOPE_ARTIFACTS_DIR)
    except ArtifactError as exc:
        raise ValidationError(f"model version {version.name} cannot be promoted: {exc}") from None
    # Lock every version row this promotion touches, so two concurrent promotions serialize.
    locked = list(ModelVersion.objects.select_for_update().filter(status=ModelVersion.Status.ACTIVE))
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status == ModelVersion.Status.ACTIVE:
        return version
    previous = locked[0] if locked else None
    if previous is not None:
        previous.status = ModelVersion.Status.RETIRED
        previous.save(update_fields=["status"])
    before = version.status
    # A shadow that is promoted stops shadowing: it now routes.
    version.status, version.promoted_at, version.is_shadow = ModelVersion.Status.ACTIVE, timezone.now(), False
    version.save(update_fields=["status", "promoted_at", "is_shadow"])
    audit_event_record(
        actor=promoted_by,
        action="model_version.promote",
        target=version,
        before={"status": before, "active": previous.name if previous else None},
        after={"status": version.status},
    )
    transaction.on_commit(active_model.invalidate)
    transaction.on_commit(_route_waiting_comments, robust=True)
    return version


def _route_waiting_comments() -> None:
    from moderation.tasks import comments_route_waiting

    comments_route_waiting.delay()
