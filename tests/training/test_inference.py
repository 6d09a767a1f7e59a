"""Scoring reads a long comment window by window."""

import numpy as np
import pytest

from tests.tiny import tiny_config
from training import inference
from training.batches import unlabelled
from training.calibration import apply_probability_maps, blend_parts
from training.data import Example
from training.inference import Scorer, encode, split_windows
from training.loop import predict
from training.pipeline import run_training

FILLER = "the committee met on tuesday to discuss the parking arrangements for next year . "
INSULT = "you are a worthless stupid idiot and everyone hates you"


def _tokens(scorer: Scorer, text: str) -> int:
    scorer.artifact.tokenizer.no_truncation()
    return len(scorer.artifact.tokenizer.encode(text).ids)


def test_windows_cover_the_whole_text_with_overlap(trained_artifact):
    scorer = Scorer(trained_artifact.artifact_path)
    text = FILLER * 40
    windows = split_windows(scorer.artifact.tokenizer, [text, "short"], scorer.max_len)
    assert _tokens(scorer, text) > 3 * scorer.max_len
    assert all(len(ids) <= scorer.max_len for ids in windows.token_ids)
    spans = windows.spans[windows.owner == 0]
    assert len(spans) >= 4 and windows.owner.tolist().count(1) == 1
    # From the first character to the last word, each window starting inside the one before.
    assert spans[0, 0] == 0 and spans[-1, 1] == len(text.rstrip())
    assert np.all(spans[1:, 0] < spans[:-1, 1]) and np.all(np.diff(spans[:, 0]) > 0)


def test_an_insult_at_token_300_is_found_and_located(trained_artifact):
    scorer = Scorer(trained_artifact.artifact_path)
    toxic = scorer.labels.index("toxic")
    filler = FILLER * 25
    text = filler + INSULT
    assert _tokens(scorer, filler) >= 300
    alone = scorer.score([INSULT])[0, toxic]
    first_window_only = scorer.score([filler])[0, toxic]
    probs, spans = scorer.score_with_spans([text])
    assert alone > 0.5 > first_window_only  # the model does tell them apart
    # Reading the first window only (as before) the comment scored like the filler; the window
    # holding the insult (diluted by the filler that shares it) lifts it several-fold.
    assert probs[0, toxic] > 3 * first_window_only
    start, end = spans[0, toxic]
    assert start > len(filler) // 2 and text[start:end].endswith("hates you")
    # Training still reads the first window only: the insult is past it.
    assert len(encode(scorer.artifact.tokenizer, [text], scorer.max_len)[0]) == scorer.max_len


def test_the_scorer_serves_calibrated_probabilities(trained_artifact):
    """What the API, Perspective endpoint and routing get: each label's map applied to the blend
    of the neural model's and the TF-IDF model's output (a Platt or isotonic map, not the
    identity, for the labels it could fit). The composition is checked on torch's scores;
    ONNX's equal them within 1e-4 (test_onnx_model.py)."""
    scorer = Scorer(trained_artifact.artifact_path, runtime="torch")
    texts = [INSULT, "thanks for fixing the citation", FILLER]
    windows = split_windows(scorer.artifact.tokenizer, texts, scorer.max_len)
    raw = predict(scorer.artifact.model, unlabelled(windows.token_ids, len(scorer.labels), scorer.pad_id))
    assert scorer.tfidf_blend == 0.5 and len(windows.token_ids) == len(texts)  # short texts: one window each
    tfidf = scorer.artifact.tfidf.predict_proba(texts)  # the bag of words, each part through its own maps
    raw = blend_parts(raw, tfidf, scorer.artifact.part_maps, 0.5, scorer.labels)
    maps = scorer.artifact.probability_maps
    assert {m.method for m in maps.values()} - {"identity"}
    np.testing.assert_allclose(scorer.score(texts), apply_probability_maps(raw, maps, scorer.labels), atol=1e-6)
    assert not np.allclose(scorer.score(texts), raw)
    # The parts it blended, as the teaching queue reads them: each a probability, blended to raw.
    _, _, parts = scorer.score_with_parts(texts)
    np.testing.assert_allclose(0.5 * parts[..., 0] + 0.5 * parts[..., 1], raw, atol=1e-6)
    np.testing.assert_allclose(
        parts[..., 1], apply_probability_maps(tfidf, scorer.artifact.part_maps["tfidf"], scorer.labels)
    )


def test_a_label_no_training_row_had_a_positive_of_scores_zero(demo_examples, tmp_path):
    """Racism on Jigsaw rows: its head never learned anything, so it must not flag noise."""
    without = [Example(e.text, {k: v for k, v in e.labels.items() if k != "racism"}) for e in demo_examples]
    outcome = run_training(tiny_config(max_epochs=1), without, tmp_path, name="no-racism")
    scorer = Scorer(outcome.artifact_path)
    assert scorer.unlearned == ["racism"]
    scores, _, parts = scorer.score_with_parts([INSULT, FILLER])
    assert np.all(scores[:, scorer.labels.index("racism")] == 0)
    assert scores[0, scorer.labels.index("toxic")] > 0
    # Nor are its parts read: an untrained head against a bag of words is no disagreement to label.
    assert np.all(parts[:, scorer.labels.index("racism")] == 0)


def test_word_drops_leave_each_word_out_once(trained_artifact):
    scorer = Scorer(trained_artifact.artifact_path)
    text = "you are a worthless stupid idiot"
    drops = scorer.word_drops(text, "toxic")
    assert [text[start:end] for start, end, _ in drops] == text.split()
    toxic = scorer.labels.index("toxic")
    without_idiot = scorer._windows([text, "you are a worthless stupid "])[0][:, toxic]
    assert drops[-1][2] == pytest.approx(float(without_idiot[0] - without_idiot[1]), abs=1e-6)
    assert scorer.word_drops("!!! ...", "toxic") == []
    assert len(scorer.word_drops("word " * 40, "toxic")) == 40
    assert scorer.word_drops("word " * 41, "toxic") == []  # bounded: the work page pays for it


def test_a_long_texts_driving_words_are_sought_in_its_highest_scored_run_of_words(trained_artifact, monkeypatch):
    monkeypatch.setattr(inference, "OCCLUSION_MIN_DROP", -1.0)  # the tiny model moves little: any drop counts
    scorer = Scorer(trained_artifact.artifact_path)
    calm = "the council met on tuesday to discuss the new road layout and the parking plan " * 4
    text = calm + "you are a stupid worthless idiot and everyone hates you " + calm
    spans = scorer.driving_words(text, "toxic")
    assert 1 <= len(spans) <= inference.DRIVING_WORDS
    assert all(text[start:end] in text.split() for start, end in spans)  # whole words of the text as sent
    runs = [match.start() for match in inference.WORD.finditer(text)][:: inference.MAX_OCCLUDED_WORDS]
    assert len({sum(start >= run for run in runs) for start, _ in spans}) == 1  # all in one run


def test_the_scorer_reads_through_the_artifacts_normaliser(trained_artifact):
    scorer = Scorer(trained_artifact.artifact_path)
    assert scorer.normaliser == 1
    disguised, plain = scorer.score(["you are so s t u p i d, 1d10t", "you are so stupid, idiot"])
    np.testing.assert_allclose(disguised, plain, rtol=1e-5)


def test_the_driving_span_is_on_the_text_as_sent(trained_artifact):
    scorer = Scorer(trained_artifact.artifact_path)
    text = "ｙｏｕ ａｒｅ " + FILLER * 12 + "a s t u p i d idiot"
    _, spans = scorer.score_with_spans([text])
    start, end = spans[0, scorer.labels.index("toxic")]
    assert 0 <= start < end <= len(text)
    assert text[start:end].strip()


def test_an_artifact_made_before_the_normaliser_reads_text_as_it_is(trained_artifact, tmp_path):
    """Format 1 (no "format" in its manifest, no normaliser in its config) reads as format 2
    with normaliser 0."""
    import json
    import shutil

    old = tmp_path / "old"
    shutil.copytree(trained_artifact.artifact_path, old)
    config = json.loads((old / "config.json").read_text())
    del config["training"]["normaliser"]
    (old / "config.json").write_text(json.dumps(config))
    manifest = json.loads((old / "manifest.json").read_text())
    from training.artifacts import file_sha256

    manifest["files"]["config.json"] = file_sha256(old / "config.json")
    del manifest["format"]
    (old / "manifest.json").write_text(json.dumps(manifest))
    scorer = Scorer(old)
    assert scorer.normaliser == 0
    disguised, plain = scorer.score(["you are so s t u p i d, 1d10t", "you are so stupid, idiot"])
    assert not np.allclose(disguised, plain)


def test_an_artifact_of_a_newer_format_is_refused_with_a_message(trained_artifact, tmp_path):
    import json
    import shutil

    from training.artifacts import FORMAT, ArtifactError

    newer = tmp_path / "newer"
    shutil.copytree(trained_artifact.artifact_path, newer)
    manifest = json.loads((newer / "manifest.json").read_text())
    assert manifest["format"] == FORMAT
    (newer / "manifest.json").write_text(json.dumps({**manifest, "format": FORMAT + 1}))
    with pytest.raises(ArtifactError, match="newer than this release"):
        Scorer(newer)
