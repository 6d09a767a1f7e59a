"""The validation split kept with an artifact, and what thresholds do on it."""

import json

import numpy as np
import pytest

from training.data import Example
from training.inference import Scorer
from training.validation_split import (
    load_validation_split,
    pr_curve,
    text_key,
    threshold_outcome,
    validation_split_record,
)


@pytest.fixture(scope="module")
def validation(trained_artifact):
    return load_validation_split(trained_artifact.artifact_path)


def test_the_artifact_keeps_its_validation_split_with_the_models_scores(trained_artifact, validation):
    assert len(validation) == trained_artifact.val_size and validation.labels == list(trained_artifact.thresholds)
    rescored = Scorer(trained_artifact.artifact_path).score(validation.texts[:20])
    np.testing.assert_allclose(rescored, validation.scores[:20], atol=1e-4)
    # The split was held out: none of its texts is among the training texts.
    assert not {text_key(text) for text in validation.texts} & validation.train_text_keys
    assert len(validation.train_text_keys) > len(validation)


def test_unknown_labels_stay_unknown(tmp_path):
    examples = [Example("a", {"toxic": True}), Example("b", {"toxic": False, "racism": False})]
    record = validation_split_record(examples, np.array([[0.9, 0.1], [0.2, 0.3]]), ["toxic", "racism"], ["c"])
    (tmp_path / "validation.json").write_text(json.dumps(record))
    loaded = load_validation_split(tmp_path)
    assert record["truth"] == [{"toxic": True}, {"toxic": False, "racism": False}]
    np.testing.assert_array_equal(loaded.mask, [[1, 0], [1, 1]])
    np.testing.assert_array_equal(loaded.y, [[1, 0], [0, 0]])
    assert threshold_outcome(loaded, "racism", review=0.0, reject=1.0).known == 1


def test_threshold_outcomes_are_counted_on_known_examples(validation):
    everything = threshold_outcome(validation, "toxic", review=0.0, reject=1.01)
    assert everything.reviewed == everything.known and everything.auto_rejected == 0
    assert everything.recall == 1.0 and everything.precision == everything.positives / everything.known
    nothing = threshold_outcome(validation, "toxic", review=1.01, reject=1.01)
    assert nothing.reviewed == 0 and nothing.precision is None and nothing.recall == 0.0
    split = threshold_outcome(validation, "toxic", review=0.3, reject=0.7)
    j = validation.label_index("toxic")
    scores = validation.scores[validation.mask[:, j] > 0, j]
    assert split.auto_rejected == int((scores >= 0.7).sum())
    assert split.reviewed == int(((scores >= 0.3) & (scores < 0.7)).sum())


def test_a_pr_curve_needs_both_classes(validation):
    precision, recall, thresholds = pr_curve(validation, "toxic")
    assert len(precision) == len(recall) == len(thresholds) + 1 and recall[0] == 1.0
