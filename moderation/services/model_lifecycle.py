"""The admins' model lifecycle: gated promotion, shadow scoring, thresholds saved as rules,
scheduled retraining."""

import logging
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from moderation.models import Comment, Label, ModelVersion, Prediction, ReviewQueue, RoutingRule, TrainingRun
from moderation.selectors.models import decisions_since, model_versions_compare
from moderation.services.audit import audit_event_record
from moderation.services.model_versions import model_version_promote
from moderation.services.routing_config import routing_config
from moderation.services.routing_rules import routing_rule_create, routing_rule_deactivate
from moderation.services.scoring import scorer_for
from moderation.services.training import training_run_start

logger = logging.getLogger(__name__)


def model_version_promote_gated(
    *, version: ModelVersion, promoted_by, override: bool = False, reason: str = ""
) -> ModelVersion:
    """Promote a candidate only if its macro-F1, on the same held-out comments, is at most
    `TOXISCOPE_PROMOTION_MARGIN` below the active version's; otherwise only with `override`
    and a reason, both audited. Promoting a retired version (a rollback) is not gated."""
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    if active is None or version.status != ModelVersion.Status.CANDIDATE:
        return model_version_promote(version=version, promoted_by=promoted_by)
    comparison = model_versions_compare(candidate=version, active=active)
    if comparison is None or comparison.gate_passes:
        return model_version_promote(version=version, promoted_by=promoted_by)
    numbers = (
        f"macro-F1 {comparison.candidate_macro_f1:.3f} against the active {comparison.active_macro_f1:.3f} "
        f"on {comparison.examples} held-out comments (allowed margin {comparison.margin:.3f})"
    )
    if not override:
        raise ValidationError(f"{version.name} is worse than the active version: {numbers}.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why you override the promotion gate."})
    with transaction.atomic():
        promoted = model_version_promote(version=version, promoted_by=promoted_by)
        audit_event_record(
            actor=promoted_by,
            action="model_version.promote_override",
            target=version,
            before={"active": active.name, "active_macro_f1": comparison.active_macro_f1},
            after={"candidate_macro_f1": comparison.candidate_macro_f1, "reason": reason.strip(), "gate": numbers},
        )
    return promoted


@transaction.atomic
def model_version_shadow_set(*, version: ModelVersion | None, changed_by) -> ModelVersion | None:
    """Make `version` the one shadow (None: no shadow). A shadow scores live traffic beside the
    active version and stores its predictions; routing never sees them."""
    if version is not None and version.status == ModelVersion.Status.ACTIVE:
        raise ValidationError("The active version cannot be its own shadow.")
    previous = ModelVersion.objects.select_for_update().filter(is_shadow=True).first()
    if previous is not None:
        previous.is_shadow = False
        previous.save(update_fields=["is_shadow"])
    if version is not None:
        version = ModelVersion.objects.select_for_update().get(pk=version.pk)
        version.is_shadow = True
        version.save(update_fields=["is_shadow"])
    audit_event_record(
        actor=changed_by,
        action="model_version.shadow",
        target=version or previous,
        before={"shadow": previous.name if previous else None},
        after={"shadow": version.name if version else None},
    )
    transaction.on_commit(routing_config.invalidate)
    return version


def comments_shadow_score(*, comment_ids: Sequence[int]) -> int:
    """Score comments with the shadow version, if one is set; returns how many were scored."""
    shadow = ModelVersion.objects.filter(is_shadow=True).first()
    if shadow is None:
        return 0
    comments = list(Comment.objects.filter(pk__in=comment_ids).exclude(predictions__model_version=shadow))
    if not comments:
        return 0
    scores = scorer_for(shadow).score_dicts([comment.text for comment in comments])
    Prediction.objects.bulk_create(
        [Prediction(comment=c, model_version=shadow, scores=s) for c, s in zip(comments, scores, strict=True)],
        ignore_conflicts=True,
    )
    return len(comments)


@transaction.atomic
def label_thresholds_save(*, label: Label, review: float, reject: float | None, changed_by) -> list[RoutingRule]:
    """Save a label's review threshold (and auto-reject threshold, if any) as its global routing
    rules. The rules they replace are deactivated, not changed: each save is a new version of
    the label's rules, and the old ones stay in the history."""
    if not 0 <= review <= 1 or (reject is not None and not review <= reject <= 1):
        raise ValidationError("Thresholds are between 0 and 1, and auto-reject is at or above review.")
    current = list(
        RoutingRule.objects.select_for_update().filter(
            label=label,
            source="",
            is_active=True,
            action__in=[RoutingRule.Action.REVIEW, RoutingRule.Action.AUTO_REJECT],
        )
    )
    review_rule = next((rule for rule in current if rule.action == RoutingRule.Action.REVIEW), None)
    queue = review_rule.queue if review_rule else ReviewQueue.objects.get(slug=routing_config.get().default_queue.slug)
    for rule in current:
        routing_rule_deactivate(rule=rule, changed_by=changed_by)
    saved = [
        routing_rule_create(
            changed_by=changed_by,
            order=review_rule.order if review_rule else 100,
            label=label,
            action=RoutingRule.Action.REVIEW,
            threshold=review,
            queue=queue,
        )
    ]
    if reject is not None:
        saved.append(
            routing_rule_create(
                changed_by=changed_by, order=10, label=label, action=RoutingRule.Action.AUTO_REJECT, threshold=reject
            )
        )
    return saved


def training_retrain_if_due() -> TrainingRun | None:
    """The scheduled retrain: start a run when retraining is on, the last run is old enough and
    enough new moderator decisions exist. Returns the run started, if any."""
    if settings.TOXISCOPE_RETRAIN_MIN_DECISIONS <= 0:
        return None
    last = TrainingRun.objects.filter(kind=TrainingRun.Kind.TRAIN).order_by("-created_at").first()
    if last is not None and last.created_at > timezone.now() - timedelta(days=settings.TOXISCOPE_RETRAIN_INTERVAL_DAYS):
        return None
    new_decisions = decisions_since(moment=last.created_at if last else timezone.now() - timedelta(days=3650))
    if new_decisions < settings.TOXISCOPE_RETRAIN_MIN_DECISIONS:
        return None
    logger.info("scheduled retrain: %d new moderator decisions", new_decisions)
    return training_run_start(auto_promote=settings.TOXISCOPE_RETRAIN_AUTO_PROMOTE)
