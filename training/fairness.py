"""What a version is trusted on, beyond ranking: fairness to identity mentions (the bias report),
resistance to disguised insults (the robustness report), and each label's evidence.

Bias (Borkan et al. 2019, "Nuanced metrics for measuring unintended bias"): for each identity
term, over the comments that mention it (the subgroup) and those that do not (the background),
- subgroup AUC: toxic against non-toxic inside the subgroup;
- BPSN AUC (background positive, subgroup negative): low when non-toxic mentions of the term
  score above toxic comments elsewhere, the "I am a gay man" failure;
- BNSP AUC (background negative, subgroup positive): low when toxic mentions score below
  non-toxic comments elsewhere;
and the final metric 0.25 · overall AUC + 0.25 · Σ over the three of their power mean (p = −5)
across terms, which weighs the worst terms most.
"""

import random
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from training.augment import DISGUISES, disguise, has_disguisable_word
from training.templates import IDENTITY_TERMS, evaluation_templates

POWER = -5
# A term needs this many toxic and non-toxic mentions for its AUCs: fewer would be noise.
MIN_SUBGROUP = 3
# Evidence: a label is reliable with at least this many validation positives and a bootstrap
# interval of its validation ROC-AUC whose lower end reaches RELIABLE_AUC_LOW.
MIN_VALIDATION_POSITIVES = 10
RELIABLE_AUC_LOW = 0.75
BOOTSTRAP_ROUNDS = 200

_TERM = {term: re.compile(rf"\b{re.escape(term)}\b", re.IGNORECASE) for term in IDENTITY_TERMS}
_ANY_TERM = re.compile(r"\b(?:" + "|".join(map(re.escape, IDENTITY_TERMS)) + r")\b", re.IGNORECASE)


def rank_auc(scores: np.ndarray, truth: np.ndarray) -> float | None:
    """ROC-AUC by ranks (ties share a rank: sklearn's roc_auc_score to the last digit), or None
    without both classes. Its own because the evidence's bootstrap takes 1,400 of them a run,
    and sklearn's input checks made that 6 s on the starter's validation split, a few seconds
    more on every training test."""
    positives, negatives = int(truth.sum()), int(len(truth) - truth.sum())
    if not positives or not negatives:
        return None
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # Average ranks over ties.
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    return float((ranks[truth].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def power_mean(values: Sequence[float | None], p: float = POWER) -> float | None:
    known = np.asarray([v for v in values if v is not None], dtype=float)
    if not len(known):
        return None
    return float(np.mean(np.maximum(known, 1e-6) ** p) ** (1 / p))


def mentioned_terms(text: str) -> set[str]:
    return {term for term, pattern in _TERM.items() if pattern.search(text)}


def mentions_identity(text: str) -> bool:
    """Whether `text` names any identity term: one search, not one per term."""
    return _ANY_TERM.search(text) is not None


def bias_report(scores: np.ndarray, toxic: np.ndarray, terms: Sequence[set[str]], threshold: float) -> dict[str, Any]:
    """`scores` and `toxic` (bool) per comment, the identity terms each mentions, and the
    served toxic threshold. Terms are listed worst first (lowest of their three AUCs)."""
    scores, toxic = np.asarray(scores, dtype=float), np.asarray(toxic, dtype=bool)
    per_term: list[dict[str, Any]] = []
    for term in IDENTITY_TERMS:
        inside = np.array([term in mentioned for mentioned in terms], dtype=bool)
        if (toxic & inside).sum() < MIN_SUBGROUP or (~toxic & inside).sum() < MIN_SUBGROUP:
            continue
        bpsn = (toxic & ~inside) | (~toxic & inside)
        bnsp = (~toxic & ~inside) | (toxic & inside)
        entry = {
            "term": term,
            "mentions": int(inside.sum()),
            "subgroup_auc": rank_auc(scores[inside], toxic[inside]),
            "bpsn_auc": rank_auc(scores[bpsn], toxic[bpsn]),
            "bnsp_auc": rank_auc(scores[bnsp], toxic[bnsp]),
            "non_toxic_flag_rate": float((scores[inside & ~toxic] >= threshold).mean()),
        }
        per_term.append(entry)
    per_term.sort(key=lambda e: min(v for k, v in e.items() if k.endswith("_auc") and v is not None))
    overall = rank_auc(scores, toxic)
    means = {name: power_mean([e[name] for e in per_term]) for name in ("subgroup_auc", "bpsn_auc", "bnsp_auc")}
    identity_negatives = np.array([bool(mentioned) for mentioned in terms], dtype=bool) & ~toxic
    final = None
    if overall is not None and all(v is not None for v in means.values()):
        final = 0.25 * overall + 0.25 * sum(v for v in means.values() if v is not None)
    return {
        "final_bias_metric": final,
        "overall_auc": overall,
        "power_means": means,
        "non_toxic_identity_flag_rate": float((scores[identity_negatives] >= threshold).mean())
        if identity_negatives.any()
        else None,
        "examples": len(scores),
        "terms": per_term,
    }


def template_bias(score: Callable[[list[str]], np.ndarray], threshold: float) -> dict[str, Any]:
    """The bias report on this project's evaluation templates; `score` gives each text's
    served toxic score."""
    rows = evaluation_templates()
    scores = score([text for text, _, _ in rows])
    return bias_report(scores, np.array([toxic for _, _, toxic in rows]), [{term} for _, term, _ in rows], threshold)


def robustness_report(
    score: Callable[[list[str]], np.ndarray], toxic_texts: Sequence[str], threshold: float, *, seed: int = 0
) -> dict[str, Any]:
    """Of the toxic comments that contain a word people disguise and are caught as written, the
    share still caught under each disguise of those words (the perturbation suite)."""
    texts = [text for text in toxic_texts if has_disguisable_word(text)]
    if not texts:
        return {"comments": 0, "caught": None, "disguises": {}}
    caught = score(list(texts)) >= threshold
    kept = [text for text, hit in zip(texts, caught, strict=True) if hit]
    disguises: dict[str, float] = {}
    report: dict[str, Any] = {"comments": len(texts), "caught": float(caught.mean()), "disguises": disguises}
    if not kept:
        return report
    for name in sorted(DISGUISES):
        rng = random.Random(seed)
        disguised = [disguise(text, name, rng) for text in kept]
        disguises[name] = float((score(disguised) >= threshold).mean())
    report["worst"] = min(disguises.values())
    return report


def label_evidence(
    labels: Sequence[str],
    train_positives: Sequence[int] | np.ndarray,
    augmented_positives: Sequence[int] | np.ndarray,
    probs: np.ndarray,
    y: np.ndarray,
    mask: np.ndarray,
    *,
    seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """Per label: training positives (labelled, and added by augmentation), validation positives,
    validation ROC-AUC with a 90 % bootstrap interval, and whether that is enough evidence."""
    rng = np.random.default_rng(seed)
    evidence = {}
    for j, label in enumerate(labels):
        known = mask[:, j] > 0
        scores, truth = probs[known, j], y[known, j] > 0.5
        auc = rank_auc(scores, truth)
        interval = None
        if auc is not None:
            drawn = [
                rank_auc(scores[pick], truth[pick])
                for pick in (rng.integers(0, len(scores), len(scores)) for _ in range(BOOTSTRAP_ROUNDS))
            ]
            samples = [s for s in drawn if s is not None]
            interval = [float(np.quantile(samples, 0.05)), float(np.quantile(samples, 0.95))] if samples else None
        positives = int(truth.sum())
        reliable = bool(
            positives >= MIN_VALIDATION_POSITIVES and interval is not None and interval[0] >= RELIABLE_AUC_LOW
        )
        evidence[label] = {
            "train_positives": int(train_positives[j]),
            "augmented_positives": int(augmented_positives[j]),
            "validation_positives": positives,
            "validation_auc": auc,
            "validation_auc_interval": interval,
            "reliable": reliable,
        }
    return evidence


__all__ = [
    "bias_report",
    "label_evidence",
    "mentioned_terms",
    "power_mean",
    "robustness_report",
    "template_bias",
]
