import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.tiny import tiny_config
from training.artifacts import FILES, ArtifactError, load_artifact, verify_artifact
from training.data import DataError, Example, in_evaluation_set
from training.inference import Scorer
from training.pipeline import run_training
from training.recalibration import recalibrate


def test_artifact_is_complete_and_records_what_it_was_trained_with(trained_artifact, demo_examples):
    path = trained_artifact.artifact_path
    metrics = json.loads((path / "metrics.json").read_text())
    # The cascade's band, where the validation split allowed one: in the artifact and in its metrics alike.
    optional = [] if metrics["cascade"] else ["cascade.json"]
    assert sorted(p.name for p in path.iterdir()) == sorted([*(f for f in FILES if f not in optional), "manifest.json"])
    assert not list(path.glob("*.bin")) and not list(path.glob("*.pt")) and not list(path.glob("*.pkl"))
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["data_hash"] == trained_artifact.data_hash
    assert manifest["seed"] == 13
    assert metrics["learning_curve"] and metrics["timings"]["total_s"] > 0
    assert 0 < metrics["throughput"]["padding_efficiency"] <= 1
    calibration = metrics["calibration"]["labels"]
    assert set(calibration) == set(tiny_config().labels)
    assert all(entry["positives"] >= 0 for entry in calibration.values())
    assert set(metrics["model"]) == {"calibrated", "at_0_5", "probabilities"}
    assert json.loads((path / "thresholds.json").read_text()) == trained_artifact.thresholds


def test_loading_an_artifact_gives_the_same_predictions(trained_artifact, demo_examples):
    texts = [example.text for example in demo_examples[:40]]
    first = Scorer(trained_artifact.artifact_path).score(texts)
    second = Scorer(trained_artifact.artifact_path).score(texts)
    assert first.shape == (40, 7)
    np.testing.assert_array_equal(first, second)
    single = Scorer(trained_artifact.artifact_path).score(texts[:1])
    np.testing.assert_allclose(single[0], first[0], atol=1e-5)  # padding in a batch changes nothing


@pytest.mark.slow
def test_the_same_config_and_data_give_the_same_metrics(tmp_path, demo_examples, trained_artifact):
    same_rows = [e for e in reversed(demo_examples) if not in_evaluation_set(e.text)]  # as trained_artifact
    again = run_training(tiny_config(), same_rows, tmp_path, name="again")
    assert again.data_hash == trained_artifact.data_hash
    assert again.metrics["model"] == trained_artifact.metrics["model"]
    assert again.thresholds == trained_artifact.thresholds


@pytest.mark.slow
def test_a_small_model_learns_the_demo_set(trained_artifact):
    model = trained_artifact.metrics["model"]["calibrated"]
    assert model["labels"]["toxic"]["roc_auc"] > 0.8


@pytest.mark.slow
def test_out_of_fold_calibration_and_baseline(tmp_path, demo_examples):
    outcome = run_training(
        tiny_config(calibration="oof", calibration_folds=3, max_epochs=2, baseline=True, tfidf_blend=0),
        demo_examples,
        tmp_path,
        name="oof",
    )
    calibration = outcome.metrics["calibration"]
    assert calibration["method"] == "oof"
    # Out-of-fold thresholds see every training positive, more than the validation split holds.
    assert calibration["labels"]["toxic"]["positives"] == outcome.metrics["split"]["train_positives"]["toxic"]
    baseline = outcome.metrics["baseline"]["calibrated"]
    assert baseline["macro_f1"] is not None and baseline["labels"]["toxic"]["roc_auc"] > 0.5


def test_unknown_labels_are_masked_end_to_end(tmp_path, demo_examples):
    # Drop racism from half the rows: those rows must neither train nor score racism.
    examples = [
        Example(e.text, {k: v for k, v in e.labels.items() if k != "racism" or i % 2})
        for i, e in enumerate(demo_examples)
    ]
    outcome = run_training(tiny_config(max_epochs=1), examples, tmp_path, name="masked")
    metrics = outcome.metrics
    val_size = metrics["split"]["val"]
    assert metrics["model"]["calibrated"]["labels"]["racism"]["known"] < val_size
    assert metrics["model"]["calibrated"]["labels"]["toxic"]["known"] == val_size
    assert metrics["split"]["train_positives"]["racism"] + metrics["split"]["val_positives"]["racism"] == sum(
        1 for e in examples if e.labels.get("racism")
    )


def test_too_little_data_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="at least 20"):
        run_training(tiny_config(), [Example("hi", {"toxic": False})] * 5, tmp_path)
    with pytest.raises(DataError, match="both positive and negative"):
        run_training(tiny_config(), [Example(f"hi {i}", {"toxic": False}) for i in range(30)], tmp_path)
    assert not any(tmp_path.iterdir())


def test_a_failure_while_writing_leaves_no_artifact(tmp_path, demo_examples, monkeypatch):
    import safetensors.torch

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(safetensors.torch, "save_file", broken_save)  # what write_artifact calls
    with pytest.raises(OSError, match="disk full"):
        run_training(tiny_config(max_epochs=1), demo_examples, tmp_path, name="broken")
    assert list(tmp_path.iterdir()) == []


def test_corrupt_or_missing_files_and_outside_paths_are_refused(trained_artifact, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(trained_artifact.artifact_path, copy)
    verify_artifact(copy)
    with open(copy / "model.safetensors", "r+b") as handle:
        handle.seek(200)
        handle.write(b"\x00\x01\x02\x03")
    with pytest.raises(ArtifactError, match="checksum"):
        load_artifact(copy)
    incomplete = tmp_path / "incomplete"
    shutil.copytree(trained_artifact.artifact_path, incomplete)
    (incomplete / "tokenizer.json").unlink()
    with pytest.raises(ArtifactError, match="missing tokenizer.json"):
        verify_artifact(incomplete)
    with pytest.raises(ArtifactError, match="outside the artifacts directory"):
        load_artifact(trained_artifact.artifact_path, root=tmp_path)


def test_recalibration_moves_thresholds_on_new_data(trained_artifact, demo_examples, tmp_path):
    outcome = recalibrate(
        trained_artifact.artifact_path, demo_examples, trained_artifact.thresholds, out_dir=tmp_path, name="recal"
    )
    assert set(outcome.thresholds) == set(trained_artifact.thresholds)
    recalibration = outcome.metrics["recalibration"]
    assert recalibration["size"] == outcome.size == len(demo_examples)
    # Chosen on this very data, the new thresholds cannot do worse on it than the old ones.
    assert recalibration["after"]["calibrated"]["macro_f1"] >= recalibration["before"]["calibrated"]["macro_f1"] - 1e-9


def test_recalibration_writes_an_artifact_of_its_own_sharing_the_weights(trained_artifact, demo_examples, tmp_path):
    parent = Path(trained_artifact.artifact_path)
    parent_thresholds = (parent / "thresholds.json").read_text()
    changed = {label: 0.99 for label in trained_artifact.thresholds}  # far from what calibration picks
    outcome = recalibrate(parent, demo_examples, changed, out_dir=tmp_path, name="recal", context={"since": "x"})
    path = outcome.artifact_path
    assert path == tmp_path / "recal" and path != parent
    manifest = verify_artifact(path)  # every checksum holds, the shared files' included
    assert manifest["parent"] == parent.name and set(manifest["files"]) == set(FILES)
    assert json.loads((path / "thresholds.json").read_text()) == outcome.thresholds
    assert json.loads((path / "metrics.json").read_text()) == outcome.metrics
    assert outcome.metrics["recalibration"]["since"] == "x"
    assert (path / "model.safetensors").stat().st_ino == (parent / "model.safetensors").stat().st_ino
    assert (parent / "thresholds.json").read_text() == parent_thresholds  # the parent is untouched
    verify_artifact(parent)


def test_recalibration_keeps_the_parent_runs_threshold_floor(trained_artifact, demo_examples, tmp_path):
    """A floor of 0.9 in the parent's config (not TrainConfig's default 0.05) bounds every
    recalibrated threshold."""
    parent = tmp_path / "high-floor"
    shutil.copytree(trained_artifact.artifact_path, parent)
    config = json.loads((parent / "config.json").read_text())
    config["training"]["threshold_floor"] = 0.9
    (parent / "config.json").write_text(json.dumps(config))
    manifest = json.loads((parent / "manifest.json").read_text())
    manifest["files"]["config.json"] = hashlib.sha256((parent / "config.json").read_bytes()).hexdigest()
    (parent / "manifest.json").write_text(json.dumps(manifest))
    outcome = recalibrate(parent, demo_examples, trained_artifact.thresholds, out_dir=tmp_path, name="recal")
    calibrated = outcome.metrics["recalibration"]["calibration"]
    assert any(entry["calibrated"] for entry in calibrated.values())
    assert all(outcome.thresholds[label] >= 0.9 for label, entry in calibrated.items() if entry["calibrated"])
