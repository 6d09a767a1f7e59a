"""The active model, loaded once per process and swapped when another version is promoted.

Every web and worker process keeps one `ActiveModel`. At most every
`TOXISCOPE_MODEL_CHECK_INTERVAL_S` seconds it asks the database which version is active (one
indexed query); when the answer changes it loads the new artifact and swaps it in, so a
promotion or rollback reaches every process within seconds, without a restart. The last few
loaded scorers are kept by version, so switching back (a rollback) reads nothing again.
"""

import functools
import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from safetensors import SafetensorError

from moderation.models import ModelVersion, TrainingRun
from moderation.storage import artifact_materialise, cache_prune
from training.artifacts import ArtifactError
from training.inference import Scorer, by_label
from training.span_tagger import SpanTagger

logger = logging.getLogger(__name__)

Parts = tuple[float, float]  # a label's probability by the transformer and by the bag of words


@dataclass(frozen=True)
class LoadedVersion:
    version: ModelVersion
    scorer: Scorer
    teacher: ModelVersion | None = None  # what it was distilled from, while that is still here

    @property
    def id(self) -> int:
        return self.version.pk

    @property
    def name(self) -> str:
        return self.version.name

    @property
    def thresholds(self) -> dict[str, float]:
        thresholds: dict[str, float] = self.version.thresholds
        return thresholds

    def score(self, texts: list[str]) -> list[dict[str, float]]:
        return self.scorer.score_dicts(texts)

    def score_with_parts(self, texts: list[str]) -> tuple[list[dict[str, float]], list[dict[str, Parts]] | None]:
        """Each text's scores, and per label its blend's parts (transformer, bag of words) as
        probabilities; None for a model without a bag of words."""
        probs, _, parts = self.scorer.score_with_parts(texts)
        labels = self.scorer.labels
        scores = by_label(labels, probs)
        if parts is None:
            return scores, None
        return scores, [
            {label: (float(pair[0]), float(pair[1])) for label, pair in zip(labels, row, strict=True)} for row in parts
        ]


def teacher_of(version: ModelVersion) -> ModelVersion | None:
    """The version a distilled version learnt from (its training run's teacher), if it still exists."""
    config = TrainingRun.objects.filter(model_version=version).values_list("config", flat=True).first() or {}
    name = (config.get("training") or {}).get("teacher")
    return ModelVersion.objects.filter(name=name).exclude(pk=version.pk).first() if name else None


class ActiveModel:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: LoadedVersion | None = None
        self._checked_at = float("-inf")

    def get(self) -> LoadedVersion | None:
        """The active version, ready to score; None when no version is active."""
        if time.monotonic() - self._checked_at < settings.TOXISCOPE_MODEL_CHECK_INTERVAL_S:
            return self._current
        with self._lock:
            if time.monotonic() - self._checked_at >= settings.TOXISCOPE_MODEL_CHECK_INTERVAL_S:
                self._refresh()
                self._checked_at = time.monotonic()
            return self._current

    def _refresh(self) -> None:
        version = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
        if version is None:
            self._current = None
            return
        current = self._current
        if current is not None and _identity(current.version) == _identity(version):
            return
        try:
            scorer = scorer_for(version)
        except (ArtifactError, OSError) as exc:
            # Keep serving what we had: a broken artifact must not take scoring down.
            logger.error("cannot load active model version %s: %s", version.name, exc)
            return
        if scorer.runtime == "torch":  # an artifact made before ONNX serving
            import torch  # only then: an ONNX-serving process never loads it

            torch.set_num_threads(settings.TOXISCOPE_SCORING_THREADS)
        self._current = LoadedVersion(version, scorer, teacher_of(version))
        logger.info("serving model version %s", version.name)
        # The moment this host's cache changes: the copies of retired versions unused for
        # TOXISCOPE_ARTIFACT_CACHE_DAYS go (the store keeps them; a rollback fetches again).
        unretired = ModelVersion.objects.exclude(status=ModelVersion.Status.RETIRED).values_list("name", flat=True)
        removed = cache_prune(keep=unretired, unused_for=timedelta(days=settings.TOXISCOPE_ARTIFACT_CACHE_DAYS))
        if removed:
            logger.info("removed this host's unused copies of %s", ", ".join(sorted(removed)))

    def invalidate(self) -> None:
        """Check the database on the next call (after a promotion in this process)."""
        self._checked_at = float("-inf")


_scorers: dict[tuple[object, ...], Scorer] = {}  # by serving_key, least recently used first
_scorers_lock = threading.Lock()
SCORERS_KEPT = 3  # the active version, a shadow, a candidate under comparison


def scorer_for(version: ModelVersion) -> Scorer:
    """A loaded scorer for any version: the active one, a shadow, a candidate being compared.
    One per version (and int8 and cascade choices), the last few used kept, so the active model
    is not loaded twice. A kept scorer is served without asking the store or the disk again:
    it holds its model in memory."""
    key = serving_key(version)
    with _scorers_lock:
        scorer = _scorers.pop(key, None)
        if scorer is None:
            scorer = Scorer(
                artifact_materialise(version),  # from this host's cache, fetched on first use
                root=settings.TOXISCOPE_ARTIFACTS_DIR,
                runtime="onnx-int8" if version.int8 else "onnx",
                threads=settings.TOXISCOPE_SCORING_THREADS,
                cascade=version.cascade,
            )
            while len(_scorers) >= SCORERS_KEPT:
                _scorers.pop(next(iter(_scorers)))
        _scorers[key] = scorer
        return scorer


def span_tagger() -> SpanTagger | None:
    """The word tagger the work page highlights with (settings.TOXISCOPE_SPAN_TAGGER); None where
    it is off or unreadable (the model's driving words then)."""
    return _span_tagger(settings.TOXISCOPE_SPAN_TAGGER) if settings.TOXISCOPE_SPAN_TAGGER else None


@functools.cache
def _span_tagger(path: str) -> SpanTagger | None:
    """Loaded once per process and path (an unreadable one is logged once)."""
    try:
        return SpanTagger.load(path)
    except (OSError, ValueError, KeyError, SafetensorError) as exc:
        logger.warning("no span tagger at %s: %s", path, exc)
        return None


def serving_key(version: ModelVersion) -> tuple[object, ...]:
    """What a version's scores depend on: its loaded scorer here, and the figures the model pages
    cache from them. The name and creation time as well as the id: SQLite reuses the id of a
    deleted row, and a new version may take a deleted one's name."""
    return version.pk, version.name, version.created_at, version.int8, version.cascade


def _identity(version: ModelVersion) -> tuple[object, ...]:
    return (*serving_key(version), version.thresholds)


active_model = ActiveModel()
