"""training/drift.py: the population stability index, the words outside a vocabulary and the
shift of a mix, against hand-computed values."""

import math
from collections import Counter

import numpy as np
import pytest
from tokenizers import Tokenizer, pre_tokenizers
from tokenizers.models import WordPiece

from training.drift import distribution_shift, population_stability_index, vocabulary_miss_share


def test_the_index_of_a_known_shift_is_the_hand_computed_one():
    expected = np.arange(400) / 400  # quartile edges at 0.25, 0.5, 0.75: a quarter in each bin
    actual = np.concatenate([np.full(10, 0.1), np.full(20, 0.3), np.full(30, 0.6), np.full(40, 0.9)])
    by_hand = sum((a - 0.25) * math.log(a / 0.25) for a in (0.1, 0.2, 0.3, 0.4))  # 0.2282
    assert population_stability_index(expected, actual, bins=4) == pytest.approx(by_hand, abs=1e-9)
    assert by_hand == pytest.approx(0.2282, abs=1e-4)


def test_the_same_distribution_scores_about_zero_and_a_moved_one_high():
    rng = np.random.default_rng(7)
    expected = rng.beta(1, 8, 5000)
    assert population_stability_index(expected, rng.beta(1, 8, 5000)) < 0.02
    assert population_stability_index(expected, rng.beta(4, 4, 5000)) > 1.0
    # A bin no live score reached does not make the index infinite.
    assert math.isfinite(population_stability_index(expected, np.full(100, 0.5)))


def test_words_outside_the_vocabulary_are_those_read_in_pieces_or_unknown():
    vocabulary = {"[UNK]": 0, "you": 1, "are": 2, "kind": 3, "unkind": 4, "un": 5, "##kind": 6, "g": 7, "##ut": 8}
    tokenizer = Tokenizer(WordPiece(vocabulary, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    # 8 words: "gut" is two pieces, "zz" unknown; "unkind" is one entry.
    assert vocabulary_miss_share(tokenizer, ["you are kind", "you are unkind", "gut zz"]) == pytest.approx(2 / 8)
    assert vocabulary_miss_share(tokenizer, []) == 0.0


def test_a_mix_shift_is_the_share_that_moved():
    assert distribution_shift(Counter(en=90, de=10), Counter(en=45, de=5)) == pytest.approx(0.0)
    assert distribution_shift(Counter(en=80, de=20), Counter(en=50, de=30, fr=20)) == pytest.approx(0.3)
    assert distribution_shift(Counter(en=1), Counter(de=1)) == pytest.approx(1.0)
    assert distribution_shift(Counter(), Counter(de=1)) == 0.0
