"""The scoring cascade: a band chosen within its loss budget, guarded comments always read, and
the scorer serving the bag of words alone only where the band says so."""

import json

import numpy as np

from training.artifacts import FILES, verify_artifact
from training.cascade import Band, always_read, choose_band, macro_auc
from training.inference import Scorer

LABELS = ["toxic", "insult", "racism"]


def _validation(seed=0, n=2000):
    """A bag of words that ranks well at its low end and poorly in the middle; racism constant."""
    rng = np.random.default_rng(seed)
    y = (rng.random((n, 3)) < [0.2, 0.1, 0.0]).astype(np.float32)
    mask = np.ones_like(y)
    full = np.clip(y * 0.6 + rng.random((n, 3)) * 0.5, 0, 1)
    bag = np.clip(y * 0.3 + rng.random((n, 3)) * 0.7, 0, 1)
    bag[:, 2] = 0.01
    return y, mask, full, bag


def test_the_band_skips_most_within_its_budget_and_never_a_guarded_row():
    y, mask, full, bag = _validation()
    guarded = np.zeros(len(y), dtype=bool)
    guarded[::10] = True
    band = choose_band(LABELS, full=full, substitute=bag, tfidf=bag, guarded=guarded, y=y, mask=mask, budget=0.002)
    assert band is not None and 0 < band.skip_share < 1 and band.auc_loss <= 0.002
    assert "racism" not in band.low  # a constant bag of words says nothing about it
    skipped = band.skips(bag, LABELS) & ~guarded
    assert abs(skipped.mean() - band.skip_share) < 1e-9 and not (skipped & guarded).any()
    served = np.where(skipped[:, None], bag, full)
    assert macro_auc(full, y, mask) - macro_auc(served, y, mask) <= 0.002
    # A tighter budget never skips more.
    tighter = choose_band(LABELS, full=full, substitute=bag, tfidf=bag, guarded=guarded, y=y, mask=mask, budget=0.0)
    assert tighter is None or tighter.skip_share <= band.skip_share
    assert Band.from_dict(json.loads(json.dumps(band.to_dict()))) == band


def test_no_band_when_every_row_must_be_read():
    y, mask, full, bag = _validation()
    guarded = np.ones(len(y), dtype=bool)
    assert choose_band(LABELS, full=full, substitute=bag, tfidf=bag, guarded=guarded, y=y, mask=mask) is None


def test_a_comment_naming_an_identity_or_disguised_is_always_read():
    texts = ["thanks for the fix", "I am a gay man", "you f.u.c.k", "ｆｕｌｌｗｉｄｔｈ"]
    read = ["thanks for the fix", "I am a gay man", "you fuck", "fullwidth"]
    assert always_read(texts, read).tolist() == [False, True, True, True]


def test_add_cascade_derives_an_artifact_with_its_band_and_its_figures(cascaded_artifact, trained_artifact):
    assert "cascade.json" in FILES and "cascade.json" in verify_artifact(cascaded_artifact)["files"]
    metrics = json.loads((cascaded_artifact / "metrics.json").read_text())
    assert metrics["cascade"]["skip_share"] > 0
    assert set(metrics["cascade"]["trust"]) == {"final_bias_metric", "caught_as_written", "worst_disguise"}
    weights = cascaded_artifact / "model.onnx"
    assert weights.stat().st_ino == (trained_artifact.artifact_path / "model.onnx").stat().st_ino  # shared


def test_the_scorer_reads_only_what_the_band_leaves_and_serves_the_bag_of_words_for_the_rest(cascaded_artifact):
    texts = ["thanks for the fix", "you are an idiot", "I am a gay man", "you f.u.c.k", "lovely day", "die"] * 3
    full, cascaded = Scorer(cascaded_artifact), Scorer(cascaded_artifact, cascade=True)
    assert full.band is None and cascaded.band is not None
    skipped = cascaded.skipped(texts)
    assert skipped.any() and not skipped.all()
    assert not skipped[[2, 3]].any()  # an identity named, a disguise: always read
    probs, spans, parts = cascaded.score_with_parts(texts)
    full_probs, _, full_parts = full.score_with_parts(texts)
    np.testing.assert_allclose(probs[~skipped], full_probs[~skipped], atol=1e-6)  # read: as without the cascade
    np.testing.assert_array_equal(parts[skipped, :, 0], parts[skipped, :, 1])  # the bag of words stood in
    np.testing.assert_array_equal(parts[:, :, 1], full_parts[:, :, 1])
    lengths = np.array([len(text) for text in texts])
    assert (spans[skipped, :, 0] == 0).all() and (spans[skipped, :, 1] == lengths[skipped, None]).all()
