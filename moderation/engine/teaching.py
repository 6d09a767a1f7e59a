"""Which automatic decisions a person's labels would teach the model most: the "teach the model"
queue. A comment the model would decide alone is a candidate when a label's score sits near that
label's threshold, where the model is least sure (at a fixed labelling budget such comments teach
the next version more than the highest scores: bench/active_learning.py), or when the model and
its teacher, or the blend's two parts, read it far apart. A seeded share is drawn at random
instead, whatever the scores, so that what those labels measure is not biased towards the
threshold."""

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass

# A score this close to its label's review threshold, in log-odds, is uncertain: within a factor
# e of the threshold's odds. (In plain score units a label with a low threshold, say 0.22, would
# find nearly every comment near it.) An auto-approved comment sits at least the auto-approve
# margin below every review threshold: for a threshold of 0.47 the uncertain approvals score
# 0.25 to 0.37.
NEAR = 1.0
# Where the blend's two parts (the transformer and the bag of words), or a distilled model and its
# teacher, are this far apart on a label, one of them is wrong: a person's label settles which.
APART = 0.5
# Of the comments the model decides alone, this share is offered at random (the random slots).
RANDOM_RATE = 0.05
UNCERTAIN, RANDOM = "uncertain", "random"


@dataclass(frozen=True)
class Candidate:
    kind: str  # UNCERTAIN or RANDOM: which share of the budget it takes
    closeness: float  # 1 at a threshold, 0 at NEAR from it (0 for a random pick; beyond APART, for a gap)
    reason: str  # what the item says about why it was chosen


def draw(text: str, seed: str) -> float:
    """A uniform number in [0, 1) fixed by the text and `seed` (the day): the same comment gets
    the same draw in every process, and a test can know it."""
    digest = hashlib.sha256(f"{seed}\x00{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def teaching_candidate(
    *,
    text: str,
    scores: Mapping[str, float] | None,
    thresholds: Mapping[str, float],
    seed: str,
    parts: Mapping[str, tuple[float, float]] | None = None,
    teacher: Mapping[str, float] | None = None,
) -> Candidate | None:
    """Whether a comment the model decides alone should go to people to be labelled instead:
    drawn at random, or a score near its threshold (the nearest first), or the model far from
    its `teacher`'s scores, or the blend's `parts` (per label: the transformer's and the bag of
    words' probabilities) far apart."""
    if draw(text, seed) < RANDOM_RATE:
        return Candidate(RANDOM, 0.0, "drawn at random: keeps what these labels measure unbiased")
    nearest: tuple[float, str, float, float] | None = None
    for label, threshold in thresholds.items():
        score = (scores or {}).get(label)
        if score is None:
            continue
        distance = abs(_log_odds(score) - _log_odds(threshold))
        if distance < NEAR and (nearest is None or distance < nearest[0]):
            nearest = (distance, label, score, threshold)
    if nearest is None:
        return _apart_from_teacher(scores or {}, teacher or {}) or _parts_apart(parts or {})
    distance, label, score, threshold = nearest
    side = "above" if score >= threshold else "below"
    gap = abs(score - threshold)
    reason = f"the model is unsure: {label} {score:.2f}, {gap:.2f} {side} its threshold {threshold:.2f}"
    return Candidate(UNCERTAIN, 1 - distance / NEAR, reason)


def _log_odds(probability: float) -> float:
    clipped = min(max(probability, 1e-4), 1 - 1e-4)
    return math.log(clipped / (1 - clipped))


def _largest_gap(pairs: Mapping[str, tuple[float, float]]) -> tuple[float, str]:
    return max(((abs(first - second), label) for label, (first, second) in pairs.items()), default=(0.0, ""))


def _apart_from_teacher(scores: Mapping[str, float], teacher: Mapping[str, float]) -> Candidate | None:
    pairs = {label: (scores[label], teacher[label]) for label in scores.keys() & teacher.keys()}
    gap, label = _largest_gap(pairs)
    if gap < APART:
        return None
    reason = f"the model and its teacher disagree on {label}: {scores[label]:.2f} against {teacher[label]:.2f}"
    return Candidate(UNCERTAIN, gap - APART, reason)


def _parts_apart(parts: Mapping[str, tuple[float, float]]) -> Candidate | None:
    gap, label = _largest_gap(parts)
    if gap < APART:
        return None
    neural, words = parts[label]
    reason = f"the model's two parts disagree on {label}: the transformer {neural:.2f}, the bag of words {words:.2f}"
    return Candidate(UNCERTAIN, gap - APART, reason)
