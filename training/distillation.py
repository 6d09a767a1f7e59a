"""Distillation: a trained model (the teacher) scores every text a student will see, labelled
or not, and the student learns those scores as soft targets, blended with the true labels where
a person gave them. A fast student then ranks nearly as well as a slow teacher.

Only the labels the teacher itself learned (it had positives for them) are distilled; for the
others the student sees the true labels alone, masked where unknown, as without a teacher.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from training.data import LabelMatrix
from training.inference import Scorer


@dataclass(frozen=True)
class TeacherTargets:
    matrix: LabelMatrix  # soft targets for the student's training rows
    distilled: list[str]  # the labels the teacher scored
    teacher: str  # the teacher artifact's name
    teacher_data_hash: str


def learned_labels(teacher: Scorer) -> set[str]:
    """The labels the teacher had positive examples of when it trained."""
    positives = teacher.artifact.metrics().get("split", {}).get("train_positives", {})
    return {label for label, count in positives.items() if count > 0}


def teacher_targets(
    teacher: Scorer, texts: Sequence[str], gold: LabelMatrix, labels: Sequence[str], *, weight: float
) -> TeacherTargets:
    """Targets for `texts` (whose true labels are `gold`, masked where unknown): for each label
    the teacher learned, `weight`·teacher + (1 − weight)·truth where the truth is known, and
    the teacher's score alone where it is not."""
    learned = learned_labels(teacher)
    distilled = [label for label in labels if label in teacher.labels and label in learned]
    y, mask = gold.y.copy(), gold.mask.copy()
    if distilled:
        scores = teacher.score(list(texts))
        for label in distilled:
            j, t = list(labels).index(label), scores[:, teacher.labels.index(label)]
            known = gold.mask[:, j] > 0
            y[:, j] = np.where(known, weight * t + (1 - weight) * gold.y[:, j], t)
            mask[:, j] = 1.0
    return TeacherTargets(
        LabelMatrix(y=y.astype(np.float32), mask=mask),
        distilled,
        teacher.artifact.path.name,
        teacher.artifact.manifest.get("data_hash", ""),
    )
