"""The TF-IDF model's serving path builds the same features as sklearn's transform."""

import numpy as np
import pytest

from tests.tiny import DEMO_CSV
from training import DEFAULT_LABELS, tfidf
from training.data import label_matrix, read_csv_examples
from training.tfidf import TfidfModel


@pytest.mark.parametrize("word_cache", [tfidf.WORD_CACHE_SIZE, 5])  # 5: the cache is emptied as it goes
def test_predict_proba_equals_the_sklearn_pipeline(tmp_path, monkeypatch, word_cache):
    monkeypatch.setattr(tfidf, "WORD_CACHE_SIZE", word_cache)
    examples = read_csv_examples(DEMO_CSV, DEFAULT_LABELS)
    texts = [example.text for example in examples]
    model = TfidfModel(DEFAULT_LABELS, seed=1).fit(texts, label_matrix(examples, DEFAULT_LABELS))
    model.save(tmp_path)
    loaded = TfidfModel.load(tmp_path)
    odd = ["", "!!!", "zzqqxx unseen", "Ｆｕｌｌｗｉｄｔｈ idiot", "idiot " * 500]
    for scorer in (model, loaded):
        logits = np.asarray(scorer._features(texts + odd) @ scorer.coef.T) + scorer.intercept
        expected = 1 / (1 + np.exp(-logits))
        constant = ~np.isnan(scorer.constant)
        expected[:, constant] = scorer.constant[constant]
        np.testing.assert_allclose(scorer.predict_proba(texts + odd), expected, atol=1e-6)
        np.testing.assert_allclose(scorer.predict_proba(odd[::-1]), expected[::-1][: len(odd)], atol=1e-6)  # cached
        assert scorer.predict_proba([]).shape == (0, len(DEFAULT_LABELS))
