"""The active model, loaded once per process and swapped when another version is promoted.

Every web and worker process keeps one `ActiveModel`. At most every
`TOXISCOPE_MODEL_CHECK_INTERVAL_S` seconds it asks the database which version is active (one
indexed query); when the answer changes it loads the new artifact and swaps it in, so a
promotion or rollback reaches every process within seconds, without a restart. Loaded scorers
are kept by artifact path, so a recalibrated version (same weights, new thresholds) swaps in
without reading the weights again.
"""

import logging
import threading
import time
from dataclasses import dataclass

import torch
from django.conf import settings

from moderation.models import ModelVersion
from training.artifacts import ArtifactError
from training.inference import Scorer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedVersion:
    id: int
    name: str
    labels: tuple[str, ...]
    thresholds: dict[str, float]
    scorer: Scorer

    def score(self, texts: list[str]) -> list[dict[str, float]]:
        return self.scorer.score_dicts(texts)


class ActiveModel:
    def __init__(self):
        self._lock = threading.Lock()
        self._current: LoadedVersion | None = None
        self._checked_at = float("-inf")
        self._scorers: dict[str, Scorer] = {}

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
        row = (
            ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE)
            .values("id", "name", "labels", "thresholds", "artifact_path")
            .first()
        )
        if row is None:
            self._current = None
            return
        current = self._current
        if current is not None and (current.id, current.thresholds) == (row["id"], row["thresholds"]):
            return
        try:
            scorer = self._scorers.get(row["artifact_path"]) or Scorer(
                row["artifact_path"], root=settings.TOXISCOPE_ARTIFACTS_DIR
            )
        except (ArtifactError, OSError) as exc:
            # Keep serving what we had: a broken artifact must not take scoring down.
            logger.error("cannot load active model version %s: %s", row["name"], exc)
            return
        torch.set_num_threads(settings.TOXISCOPE_TORCH_THREADS)
        self._scorers = {row["artifact_path"]: scorer}
        self._current = LoadedVersion(row["id"], row["name"], tuple(row["labels"]), dict(row["thresholds"]), scorer)
        logger.info("serving model version %s", row["name"])

    def invalidate(self) -> None:
        """Check the database on the next call (after a promotion in this process)."""
        self._checked_at = float("-inf")


active_model = ActiveModel()
