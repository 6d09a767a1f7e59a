"""Model versions: installing a ready artifact, promotion (gated, or a rollback), shadow scoring."""

import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from moderation import jobs
from moderation.engine.config import routing_config
from moderation.engine.scoring import active_model, scorer_for
from moderation.models import ArtifactFile, Comment, ModelVersion, Prediction
from moderation.selectors.model_versions import (
    PENDING,
    bias_gate_failure,
    final_bias_metric,
    model_versions_compare,
    quality_gate_failure,
    version_evaluation,
)
from moderation.services.artifacts import StoredArtifact, artifact_upload
from moderation.services.audit import audit_event_record
from moderation.storage import artifact_materialise, cache_discard, cache_path
from training.artifacts import ArtifactError, copy_artifact, load_artifact, unpack_artifact

# A version's name is its artifact's directory name on every host.
VERSION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@transaction.atomic
def model_version_create(*, artifact: StoredArtifact, **fields) -> ModelVersion:
    """A version and its artifact's file rows, together: it is visible with all its files or not
    at all. Every way a version comes to be (a run, a recalibration, an install) ends here."""
    version = ModelVersion.objects.create(**fields)
    ArtifactFile.objects.bulk_create(
        [
            ArtifactFile(version=version, name=name, sha256=sha256, size=size)
            for name, (sha256, size) in artifact.files.items()
        ]
    )
    return version


def model_version_promote(*, version: ModelVersion, promoted_by=None) -> ModelVersion:
    """Make `version` the one active version, in one transaction: the previous active one is
    retired in the same commit, so exactly one is active at every instant. Promoting a retired
    version is a rollback. Every serving process picks the change up within seconds."""
    _fetch_for_promotion(version)
    return _promote(version=version, promoted_by=promoted_by)


def _fetch_for_promotion(version: ModelVersion) -> None:
    """This host serves it next: its artifact fetched and verified, before any transaction opens
    (a fetch takes a second or more, and on SQLite an open transaction holds every writer back).
    A version the store cannot give is refused."""
    try:
        artifact_materialise(version)
    except ArtifactError as exc:
        raise ValidationError(f"model version {version.name} cannot be promoted: {exc}") from None


@transaction.atomic
def _promote(*, version: ModelVersion, promoted_by) -> ModelVersion:
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
    jobs.comments_triage_waiting()  # comments routed without a model, or left by a lost task
    for candidate in ModelVersion.objects.filter(status=ModelVersion.Status.CANDIDATE).values_list("pk", flat=True):
        jobs.model_version_measure(version_id=candidate)  # compared with the new active version
    return version


def model_version_measure(*, version_id: int) -> None:
    """Measure a version where the model pages read it: its evaluation-set figures, and, for a
    candidate, its comparison with the active version (both cached). Run by a worker when a
    version is made, after a promotion, and when a page finds a figure missing: scoring the
    evaluation set takes seconds to minutes, which no request may spend."""
    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is None:
        return
    version_evaluation(version)
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    if active is not None and version.status == ModelVersion.Status.CANDIDATE:
        model_versions_compare(candidate=version, active=active)


def model_version_measure_later(*, version_id: int) -> None:
    """A model page (or a promotion) found a figure missing: a worker measures it (asked at
    most every jobs.MEASURE_REQUEST_S per version, however many admins look)."""
    jobs.model_version_measure(version_id=version_id, from_page=True)


def model_version_promote_gated(
    *, version: ModelVersion, promoted_by, override: bool = False, reason: str = "", compute: bool = True
) -> ModelVersion:
    """Promote a candidate only if it passes the quality gate (Comparison.gate_failures: its
    macro-F1 and each label's F1 on the same evaluation-set comments, and how much traffic it
    would reroute) and its final bias metric is at most `TOXISCOPE_BIAS_MARGIN` below the
    active version's; otherwise only with `override` and a reason, both audited. Promoting a
    retired version (a rollback) is not gated. Without `compute` (a web request), a comparison
    not measured yet is sent to a worker and the promotion waits for it: nothing is changed."""
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    if active is None or version.status != ModelVersion.Status.CANDIDATE:
        return model_version_promote(version=version, promoted_by=promoted_by)
    comparison = model_versions_compare(candidate=version, active=active, compute=compute)
    if comparison == PENDING:
        model_version_measure_later(version_id=version.pk)
        raise ValidationError(
            f"{version.name} is still being compared with {active.name} on the evaluation set (a minute or so); "
            "its compare page shows the result, then promote it."
        )
    failures = (quality_gate_failure(comparison), bias_gate_failure(candidate=version, active=active))
    numbers = "; ".join(failure for failure in failures if failure)
    if not numbers:
        return model_version_promote(version=version, promoted_by=promoted_by)
    if not override:
        raise ValidationError(f"{version.name} is worse than the active version: {numbers}.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why you override the promotion gate."})
    _fetch_for_promotion(version)
    with transaction.atomic():
        promoted = _promote(version=version, promoted_by=promoted_by)
        audit_event_record(
            actor=promoted_by,
            action="model_version.promote_override",
            target=version,
            before={
                "active": active.name,
                "active_macro_f1": comparison.active_macro_f1 if comparison else None,
                "active_final_bias_metric": final_bias_metric(active),
            },
            after={
                "candidate_macro_f1": comparison.candidate_macro_f1 if comparison else None,
                "candidate_final_bias_metric": final_bias_metric(version),
                "reason": reason.strip(),
                "gate": numbers,
            },
        )
    return promoted


@transaction.atomic
def model_version_shadow_set(*, version: ModelVersion | None, changed_by) -> ModelVersion | None:
    """Make `version` the one shadow (None: no shadow). A shadow scores live traffic beside the
    active version and stores its predictions; routing never sees them."""
    if version is not None and version.status == ModelVersion.Status.ACTIVE:
        raise ValidationError("The active version cannot be its own shadow.")
    previous = ModelVersion.objects.select_for_update().filter(is_shadow=True).first()
    if version is None and previous is None:
        return None  # no shadow to stop: nothing changes, nothing to audit
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


@transaction.atomic
def model_version_set_int8(*, version: ModelVersion, int8: bool, changed_by) -> ModelVersion:
    """Serve `version` with its int8-quantised model, or with the full-precision one."""
    return _serving_switch(version=version, switch="int8", on=int8, changed_by=changed_by)


@transaction.atomic
def model_version_set_cascade(*, version: ModelVersion, cascade: bool, changed_by) -> ModelVersion:
    """Score `version` with its cascade (the bag of words alone where it is sure), or read every
    comment with the transformer."""
    return _serving_switch(version=version, switch="cascade", on=cascade, changed_by=changed_by)


def _serving_switch(*, version: ModelVersion, switch: str, on: bool, changed_by) -> ModelVersion:
    """Turn one way of serving `version` on or off, audited. Every serving process picks the
    change up within seconds, as after a promotion."""
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if getattr(version, switch) == on:
        return version
    setattr(version, switch, on)
    version.save(update_fields=[switch])
    audit_event_record(
        actor=changed_by, action=f"model_version.{switch}", target=version, before={switch: not on}, after={switch: on}
    )
    transaction.on_commit(active_model.invalidate)
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


def model_version_install(*, source: Path, name: str, installed_by=None, origin: str | None = None) -> ModelVersion:
    """Record a trained artifact made outside the platform (the starter model, an imported file)
    as a candidate: copied into this host's cache (whole or not at all, checksums checked, an
    older artifact's ONNX export added) and stored before any transaction opens (they take
    seconds), then recorded with its files in a short one."""
    if not VERSION_NAME.fullmatch(name):
        raise ValidationError(
            {"name": "a version name is 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"}
        )
    if ModelVersion.objects.filter(name=name).exists():
        raise ValidationError({"name": f"a model version named {name!r} exists already"})
    path = cache_path(ModelVersion(name=name))
    try:
        cache_discard(path)  # a copy left by an earlier database: no version has this name now
        path = copy_artifact(source, path.parent, name)
        artifact = load_artifact(path)
        thresholds, metrics = artifact.thresholds(), artifact.metrics()
        stored = artifact_upload(path=path)
    except (ArtifactError, OSError) as exc:
        cache_discard(path)
        raise ValidationError(f"cannot install {source}: {exc}") from None
    try:
        with transaction.atomic():
            version = model_version_create(
                artifact=stored,
                name=name,
                base_model=artifact.config["base_model"],
                labels=artifact.labels,
                thresholds=thresholds,
                metrics=metrics,
                data_hash=artifact.manifest["data_hash"],
                train_size=artifact.manifest["train_size"],
                seed=artifact.manifest["seed"],
                created_by=installed_by,
            )
            audit_event_record(
                actor=installed_by,
                action="model_version.install",
                target=version,
                after={"from": origin or str(source)},
            )
            jobs.model_version_measure(version_id=version.pk)
    except BaseException:
        cache_discard(path)  # no version, no copy; the stored bytes no version names are pruned
        raise
    return version


def model_version_import(*, archive: Path, name: str | None = None, imported_by=None) -> ModelVersion:
    """A candidate version from an artifact archive (`export_model`'s file, from another
    deployment), under the name it was exported with or `name`."""
    with tempfile.TemporaryDirectory() as unpacked:
        try:
            path = unpack_artifact(archive, unpacked)
        except (ArtifactError, OSError) as exc:
            raise ValidationError({"archive": f"cannot import {archive}: {exc}"}) from None
        return model_version_install(
            source=path, name=name or path.name, installed_by=imported_by, origin=f"archive {Path(archive).name}"
        )
