"""A tiny teacher distils into a student; masks survive wherever the truth and the teacher are silent."""

import json

import numpy as np
import pytest

from tests.tiny import tiny_config
from training.data import LabelMatrix, label_matrix
from training.distillation import learned_labels, teacher_targets
from training.inference import Scorer
from training.pipeline import run_training

UNLABELLED = ["what a lovely idea, thank you", "you absolute moron, get lost", "see the talk page first"]


def test_targets_blend_the_truth_and_fill_only_what_the_teacher_learned(trained_artifact):
    teacher = Scorer(trained_artifact.artifact_path)
    labels = ["toxic", "spam"]  # the teacher never heard of spam
    gold = LabelMatrix(
        y=np.array([[1, 0], [0, 0], [0, 0]], dtype=np.float32),
        mask=np.array([[1, 1], [0, 0], [1, 0]], dtype=np.float32),
    )
    texts = ["you idiot", "unknown row", "a kind word"]
    targets = teacher_targets(teacher, texts, gold, labels, weight=0.25)
    scores = teacher.score(texts)[:, teacher.labels.index("toxic")]
    assert targets.distilled == ["toxic"] and targets.teacher == trained_artifact.artifact_path.name
    np.testing.assert_allclose(targets.matrix.y[:, 0], [0.25 * scores[0] + 0.75, scores[1], 0.25 * scores[2]], 1e-6)
    np.testing.assert_array_equal(targets.matrix.mask[:, 0], [1, 1, 1])
    np.testing.assert_array_equal(targets.matrix.mask[:, 1], gold.mask[:, 1])  # spam: truth only


def test_a_label_the_teacher_never_saw_a_positive_of_is_not_distilled(trained_artifact, tmp_path, monkeypatch):
    teacher = Scorer(trained_artifact.artifact_path)
    assert learned_labels(teacher) == set(teacher.labels)
    metrics = teacher.artifact.metrics()
    metrics["split"]["train_positives"]["threat"] = 0
    monkeypatch.setattr(type(teacher.artifact), "metrics", lambda self: metrics)
    gold = label_matrix([], ["threat", "toxic"])
    assert teacher_targets(teacher, [], gold, ["threat", "toxic"], weight=0.5).distilled == ["toxic"]


@pytest.mark.slow
def test_a_student_learns_from_a_teacher_and_records_it(trained_artifact, demo_examples, tmp_path):
    config = tiny_config(teacher=str(trained_artifact.artifact_path), max_epochs=2)
    outcome = run_training(config, demo_examples, tmp_path, transfer_texts=UNLABELLED * 2, name="student")
    path = outcome.artifact_path
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["teacher"]["name"] == trained_artifact.artifact_path.name
    assert outcome.metrics["teacher"]["distilled"] == list(config.labels)
    split = outcome.metrics["split"]
    assert split["transfer"] == len(UNLABELLED)  # repeats once
    assert split["train"] - split["transfer"] + split["val"] == len(demo_examples)
    # Validation and thresholds came from true labels only: the validation split is the same as
    # without a teacher.
    plain = run_training(tiny_config(max_epochs=1), demo_examples, tmp_path, name="plain")
    assert outcome.metrics["split"]["val_positives"] == plain.metrics["split"]["val_positives"]
    assert Scorer(path).score(UNLABELLED).shape == (3, len(config.labels))
