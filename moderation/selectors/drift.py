"""Has the traffic moved away from what the active version was measured on? Score drift per
label: the population stability index (training/drift.py) of the live scores of the last days
against the version's scores on its validation split (the held-back comments its thresholds
were chosen on, kept in its artifact)."""

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.utils import timezone

from moderation.models import ModelVersion, Prediction
from moderation.selectors.model_versions import validation_split_of
from training.drift import population_stability_index

# Fewer live scores than this say nothing about a distribution.
MIN_LIVE_SCORES = 50


@dataclass(frozen=True)
class LabelDrift:
    label: str
    psi: float
    live: int  # live scores compared

    @property
    def alarming(self) -> bool:
        return self.psi >= settings.TOXISCOPE_DRIFT_PSI_ALERT


def score_drift(version: ModelVersion, *, days: int = 7) -> list[LabelDrift]:
    """Each label's drift over the last `days` (labels with too few live scores, or a version
    with no validation split kept, give none)."""
    validation = validation_split_of(version)
    if validation is None:
        return []
    since = timezone.now() - timedelta(days=days)
    rows = list(
        Prediction.objects.filter(model_version=version, created_at__gte=since)
        .values_list("scores", flat=True)
        .order_by("-created_at")[:20_000]
    )
    drifts = []
    for index, label in enumerate(validation.labels):
        live = np.array([row[label] for row in rows if label in row], dtype=float)
        if len(live) >= MIN_LIVE_SCORES and label in version.labels:
            psi = population_stability_index(validation.scores[:, index], live)
            drifts.append(LabelDrift(label, round(psi, 4), len(live)))
    return drifts
