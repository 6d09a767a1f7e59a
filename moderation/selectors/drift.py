"""Has the traffic moved away from what the active version was measured on? The live comments
of the last days against the version's evaluation set (training/drift.py):
- score drift: per label, the population stability index of the live scores;
- input drift: comment length (its index too), the share of words outside the version's
  vocabulary, and the language mix.

A worker measures it (`drift_measure`, scoring the evaluation set once a day) and the drift
service stores a snapshot per day; pages read the snapshots (`drift_latest`, `drift_history`)."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db.models.functions import Length, Substr
from django.utils import timezone

from moderation.engine.analysis import comment_languages
from moderation.engine.scoring import scorer_for
from moderation.models import DriftSnapshot, ModelVersion, Prediction
from moderation.selectors.model_versions import REFERENCE_CHARS, evaluation_reference
from training.drift import distribution_shift, population_stability_index

# Fewer live comments than this say nothing about a distribution.
MIN_LIVE_SCORES = 50
# The newest live comments a measure reads at most: a distribution needs no more.
MAX_LIVE = 5000
# Alarms on the input, beside the index (TOXISCOPE_DRIFT_PSI_ALERT) on scores and lengths:
LANGUAGE_SHIFT_ALERT = 0.2  # a fifth of the comments in other languages than the reference's mix
VOCABULARY_SHIFT_ALERT = 0.1  # ten points more of the words outside the vocabulary


@dataclass(frozen=True)
class Drift:
    comments: int  # live comments compared
    labels: dict[str, float]  # label -> PSI of its live scores
    length_psi: float
    vocabulary_miss: dict[str, float]  # "live", "reference": shares of words outside the vocabulary
    languages: dict  # "live", "reference": {language: share}; "shift": their distance
    alarms: list[str] = field(default_factory=list)  # what crossed its threshold, in words


def drift_measure(version: ModelVersion, *, days: int | None = None) -> Drift | None:
    """The version's drift over the last `days` (TOXISCOPE_DRIFT_DAYS), or None with too few
    live comments or no evaluation set to compare with."""
    since = timezone.now() - timedelta(days=days or settings.TOXISCOPE_DRIFT_DAYS)
    text, length = Substr("comment__text", 1, REFERENCE_CHARS), Length("comment__text")
    rows = list(
        Prediction.objects.filter(model_version=version, created_at__gte=since)
        .order_by("-created_at")
        .values_list("scores", text, length, "comment__language")[:MAX_LIVE]
    )
    if len(rows) < MIN_LIVE_SCORES:
        return None
    reference = evaluation_reference(version)
    if reference is None:
        return None
    scores, texts, lengths, given = zip(*rows, strict=True)
    alert = settings.TOXISCOPE_DRIFT_PSI_ALERT
    labels = {}
    for index, label in enumerate(version.labels):
        live = np.array([row[label] for row in scores if label in row], dtype=float)
        if len(live) >= MIN_LIVE_SCORES:
            labels[label] = round(population_stability_index(reference.scores[:, index], live), 4)
    vocabulary = {
        "live": round(scorer_for(version).vocabulary_miss_share(texts), 4),
        "reference": round(reference.vocabulary_miss, 4),
    }
    live_languages, reference_languages = Counter(comment_languages(texts, given)), Counter(reference.languages)
    languages = {
        "live": _shares(live_languages),
        "reference": _shares(reference_languages),
        "shift": round(distribution_shift(reference_languages, live_languages), 4),
    }
    length_psi = round(population_stability_index(reference.lengths, np.array(lengths)), 4)
    alarms = [f"{label} scores (index {psi:.2f})" for label, psi in labels.items() if psi >= alert]
    if length_psi >= alert:
        alarms.append(f"comment length (index {length_psi:.2f})")
    if vocabulary["live"] - vocabulary["reference"] >= VOCABULARY_SHIFT_ALERT:
        alarms.append(f"words outside the vocabulary ({vocabulary['live']:.0%} against {vocabulary['reference']:.0%})")
    if languages["shift"] >= LANGUAGE_SHIFT_ALERT:
        alarms.append(f"language mix ({languages['shift']:.0%} of comments moved)")
    return Drift(len(rows), labels, length_psi, vocabulary, languages, alarms)


def _shares(counts: Counter[str]) -> dict[str, float]:
    total = sum(counts.values())
    return {language or "unknown": round(count / total, 4) for language, count in counts.most_common()}


def drift_latest(version: ModelVersion) -> DriftSnapshot | None:
    return DriftSnapshot.objects.filter(model_version=version).order_by("-day").first()


def drift_history(version: ModelVersion, *, days: int = 90) -> list[DriftSnapshot]:
    """The version's daily snapshots of the last `days`, oldest first (the models page's chart)."""
    since = timezone.localdate() - timedelta(days=days)
    return list(DriftSnapshot.objects.filter(model_version=version, day__gte=since).order_by("day"))


def drift_alarm_ongoing(snapshot: DriftSnapshot) -> bool:
    """Whether the version's snapshot before this one's day had alarms too: the drift is the
    same episode, already announced."""
    earlier = (
        DriftSnapshot.objects.filter(model_version_id=snapshot.model_version_id, day__lt=snapshot.day)
        .order_by("-day")
        .values_list("alarms", flat=True)
        .first()
    )
    return bool(earlier)
