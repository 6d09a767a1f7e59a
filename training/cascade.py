"""The scoring cascade: the bag of words (TF-IDF) scores every comment, and only the comments it
is unsure of are read by the transformer.

A comment skips the transformer when, on every label, the bag of words' probability is outside
that label's band: below `low` (surely not) or above `high` (surely so). Its served score is then
the blend with the bag of words standing in for the transformer (the blend of a probability
with itself is that probability), through the served maps. A comment that names an identity,
or that the normaliser changed (a disguise), always reaches the transformer: a bag of words is
the more biased and the more easily evaded of the two.

The band is chosen on the validation split: the widest one (most comments skipping) whose
macro ROC-AUC, against the full blend's on the same rows, is at most `AUC_LOSS_BUDGET` lower.
It is kept in the artifact (`cascade.json`); a version without one reads every comment.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from training.fairness import mentions_identity, rank_auc, robustness_report, template_bias

FILE = "cascade.json"
# Half the served target (≤ 0.002 macro ROC-AUC on held-out comments): room for the difference
# between the validation split the band is chosen on and the comments it serves.
AUC_LOSS_BUDGET = 0.001
# The band's edges: per label, a quantile of the bag of words' validation probabilities. The
# broadest label's low edge is searched on its own; the other labels' share one (1: no edge,
# the broadest label decides alone); the high edges share one (1: none).
LOW_QUANTILES = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
REST_QUANTILES = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 1.0)
HIGH_QUANTILES = (1.0, 0.995, 0.99, 0.98, 0.95)


@dataclass(frozen=True)
class Band:
    low: dict[str, float]  # per label: below, the bag of words is sure it is not
    high: dict[str, float]  # per label: above, it is sure it is
    skip_share: float  # measured on the validation split when chosen
    auc_loss: float  # the full blend's macro ROC-AUC there, less the cascade's
    rows: int

    def skips(self, tfidf_probs: np.ndarray, labels: Sequence[str]) -> np.ndarray:
        """Which rows of the bag of words' probabilities are outside the band on every label it
        has edges for (a label the bag of words scores with a constant has none)."""
        columns = [j for j, label in enumerate(labels) if label in self.low]
        low = np.array([self.low[labels[j]] for j in columns])
        high = np.array([self.high[labels[j]] for j in columns])
        probs = tfidf_probs[:, columns]
        outside: np.ndarray = np.all((probs < low) | (probs > high), axis=1)
        return outside

    def skipped(
        self, texts: Sequence[str], read: Sequence[str], tfidf_probs: np.ndarray, labels: Sequence[str]
    ) -> np.ndarray:
        """Which texts the transformer is not asked about: outside the band, and not always read."""
        skipped: np.ndarray = self.skips(tfidf_probs, labels) & ~always_read(texts, read)
        return skipped

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Band:
        return cls(**record)


def always_read(texts: Sequence[str], read: Sequence[str]) -> np.ndarray:
    """The comments the transformer always reads: those that name an identity, or that the
    normaliser changed."""
    return np.array(
        [text != normalised or mentions_identity(text) for text, normalised in zip(texts, read, strict=True)],
        dtype=bool,
    )


def macro_auc(probs: np.ndarray, y: np.ndarray, mask: np.ndarray) -> float:
    """Mean ROC-AUC over the labels with both classes among their known rows."""
    aucs = [rank_auc(probs[mask[:, j] > 0, j], y[mask[:, j] > 0, j] > 0.5) for j in range(y.shape[1])]
    known = [auc for auc in aucs if auc is not None]
    return float(np.mean(known)) if known else 0.0


def choose_band(
    labels: Sequence[str],
    *,
    full: np.ndarray,
    substitute: np.ndarray,
    tfidf: np.ndarray,
    guarded: np.ndarray,
    y: np.ndarray,
    mask: np.ndarray,
    budget: float = AUC_LOSS_BUDGET,
) -> Band | None:
    """The band that skips the most rows of the validation split at a macro ROC-AUC loss of at
    most `budget`. `full`: the served probabilities; `substitute`: what a skipped row would be
    served; `tfidf`: the bag of words' probabilities (the band's scale); `guarded`: the rows
    that always reach the transformer. None when no band skips anything within the budget."""
    reference = macro_auc(full, y, mask)
    # A label the bag of words gives one constant (no positives to learn from) says nothing.
    columns = [j for j in range(len(labels)) if np.ptp(tfidf[:, j]) > 0]
    if not columns:
        return None
    varied = tfidf[:, columns]
    # The broadest label (most known positives) gates first; the others share one quantile.
    positives = [float(((mask[:, j] > 0) & (y[:, j] > 0.5)).sum()) for j in columns]
    main = int(np.argmax(positives))
    best: Band | None = None
    for main_q, rest_q, high_q in itertools.product(LOW_QUANTILES, REST_QUANTILES, HIGH_QUANTILES):
        low = np.quantile(varied, rest_q, axis=0) if rest_q < 1 else np.ones(len(columns))
        low[main] = np.quantile(varied[:, main], main_q) if main_q else 0.0
        high = np.quantile(varied, high_q, axis=0) if high_q < 1 else np.ones(len(columns))
        skip = np.all((varied < low) | (varied > high), axis=1) & ~guarded
        share = float(skip.mean())
        if share == 0 or (best is not None and share <= best.skip_share):
            continue
        loss = reference - macro_auc(np.where(skip[:, None], substitute, full), y, mask)
        if loss <= budget:
            best = Band(
                low={labels[j]: float(v) for j, v in zip(columns, low, strict=True)},
                high={labels[j]: float(v) for j, v in zip(columns, high, strict=True)},
                skip_share=share,
                auc_loss=float(loss),
                rows=len(skip),
            )
    return best


def trust_beside(
    full: Callable[[list[str]], np.ndarray],
    cascaded: Callable[[list[str]], np.ndarray],
    toxic_texts: Sequence[str],
    threshold: float,
    *,
    seed: int = 0,
) -> dict[str, dict[str, float | None]]:
    """The cascade must not make a version less fair or easier to evade: the final bias metric on
    the identity templates, the share of the toxic comments caught as written, and the share
    still caught under the worst disguise (training/fairness.py), with the full blend and with
    the cascade, each from its `toxic` scores."""
    figures: dict[str, dict[str, float | None]] = {
        "final_bias_metric": {},
        "caught_as_written": {},
        "worst_disguise": {},
    }
    for name, score in (("full", full), ("cascade", cascaded)):
        robustness = robustness_report(score, toxic_texts, threshold, seed=seed)
        figures["final_bias_metric"][name] = template_bias(score, threshold)["final_bias_metric"]
        figures["caught_as_written"][name] = robustness.get("caught")
        figures["worst_disguise"][name] = robustness.get("worst")
    return figures


def save_band(directory: Path, band: Band) -> None:
    (directory / FILE).write_text(json.dumps(band.to_dict(), indent=2, sort_keys=True))


def load_band(directory: Path) -> Band | None:
    path = directory / FILE
    return Band.from_dict(json.loads(path.read_text())) if path.is_file() else None
