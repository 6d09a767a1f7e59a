"""Serving with ONNX Runtime: the same scores as torch, on real comments, from checksummed files."""

import json
import logging
import shutil

import numpy as np
import pytest

from tests.tiny import REPO
from training.artifacts import MANIFEST, ArtifactError, copy_artifact, verify_artifact
from training.data import read_csv_examples
from training.evaluation import macro_roc_auc
from training.inference import Scorer
from training.onnx_model import INT8_FILE, ONNX_FILE

STARTER_MODEL = REPO / "moderation" / "fixtures" / "starter" / "model"
STARTER_CSV = REPO / "moderation" / "fixtures" / "starter" / "jigsaw_starter.csv"


@pytest.fixture(scope="module")
def starter(tmp_path_factory):
    """The shipped starter model installed as the platform installs it, its ONNX files with it."""
    return copy_artifact(STARTER_MODEL, tmp_path_factory.mktemp("installed"), "starter")


def test_installing_an_artifact_made_before_onnx_serving_exports_its_onnx_files(trained_artifact, tmp_path):
    old = shutil.copytree(trained_artifact.artifact_path, tmp_path / "old")
    manifest = json.loads((old / MANIFEST).read_text())
    for file in (ONNX_FILE, INT8_FILE):
        (old / file).unlink()
        del manifest["files"][file]
    (old / MANIFEST).write_text(json.dumps(manifest))
    installed = copy_artifact(old, tmp_path / "installed", "old")
    assert {ONNX_FILE, INT8_FILE} <= set(json.loads((installed / MANIFEST).read_text())["files"])
    assert Scorer(installed).runtime == "onnx"


@pytest.fixture(scope="module")
def real_comments():
    """Real Jigsaw comments from the shipped starter set, long ones (several windows) included."""
    examples = read_csv_examples(STARTER_CSV, ["toxic"])[:400]
    return [example.text for example in examples], np.array([[e.labels["toxic"]] for e in examples], dtype=float)


def test_onnx_scores_equal_torch_on_real_comments(starter, real_comments):
    texts, _ = real_comments
    torch_scores = Scorer(starter, runtime="torch").score(texts)
    onnx = Scorer(starter, runtime="onnx")
    assert onnx.runtime == "onnx"
    np.testing.assert_allclose(onnx.score(texts), torch_scores, atol=1e-4, rtol=0)
    assert max(onnx.windows_needed(text) for text in texts) > 1  # long comments read in windows too


def test_int8_changes_scores_a_little_and_ranking_barely(starter, real_comments):
    texts, truth = real_comments
    toxic = Scorer(starter).labels.index("toxic")
    full = Scorer(starter, runtime="onnx").score(texts)[:, [toxic]]
    int8 = Scorer(starter, runtime="onnx-int8").score(texts)[:, [toxic]]
    assert 1e-4 < np.abs(full - int8).max() < 0.2  # a different model, not a copy
    mask = np.ones_like(truth)
    assert macro_roc_auc(int8, truth, mask) > macro_roc_auc(full, truth, mask) - 0.01


def test_the_onnx_files_are_checksummed_in_the_manifest(starter, tmp_path):
    files = json.loads((starter / MANIFEST).read_text())["files"]
    assert {ONNX_FILE, INT8_FILE} <= set(files) and "model.safetensors" in files
    copy = shutil.copytree(starter, tmp_path / "copy")
    (copy / ONNX_FILE).write_bytes((copy / ONNX_FILE).read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ArtifactError, match="model.onnx does not match its checksum"):
        verify_artifact(copy)


def test_training_exports_onnx_and_measures_int8(trained_artifact):
    path = trained_artifact.artifact_path
    assert (path / ONNX_FILE).is_file() and (path / INT8_FILE).is_file()
    served = trained_artifact.metrics["served_forms"]
    assert served["onnx"]["max_abs_diff"] < 1e-4
    assert served["onnx"]["macro_roc_auc"] == pytest.approx(served["torch"]["macro_roc_auc"], abs=1e-3)
    assert 0 < served["onnx-int8"]["macro_roc_auc"] <= 1


def test_an_artifact_without_onnx_is_scored_by_torch_and_logged_once(trained_artifact, tmp_path, caplog):
    old = shutil.copytree(trained_artifact.artifact_path, tmp_path / "old")
    for file in (ONNX_FILE, INT8_FILE):
        (old / file).unlink()
    manifest = json.loads((old / MANIFEST).read_text())
    manifest["files"] = {f: digest for f, digest in manifest["files"].items() if f not in (ONNX_FILE, INT8_FILE)}
    (old / MANIFEST).write_text(json.dumps(manifest))
    with caplog.at_level(logging.WARNING, logger="training.inference"):
        scorers = [Scorer(old), Scorer(old, runtime="onnx-int8")]
    assert [s.runtime for s in scorers] == ["torch", "torch"]
    assert [r.getMessage() for r in caplog.records] == [f"artifact {old} has no model.onnx: scoring with torch"]
    reference = Scorer(trained_artifact.artifact_path).score(["you idiot", "thanks"])
    np.testing.assert_allclose(scorers[0].score(["you idiot", "thanks"]), reference, atol=1e-4)


def test_an_unknown_runtime_is_refused(trained_artifact):
    with pytest.raises(ValueError, match="runtime must be one of"):
        Scorer(trained_artifact.artifact_path, runtime="tensorrt")
