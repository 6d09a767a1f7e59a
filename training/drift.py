"""How far traffic has moved from what a model was measured on: the population stability index
of scores (or lengths), the words outside the vocabulary, the shift of a mix."""

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

BINS = 10
FLOOR = 1e-4  # an empty bin's share: a bin no score fell in must not make the index infinite


def population_stability_index(expected: np.ndarray, actual: np.ndarray, bins: int = BINS) -> float:
    """Σ (actual − expected) · ln(actual / expected) over the bins of `expected`'s quantiles
    (shares of each sample per bin). About 0: the same distribution; above 0.25, by the usual
    reading, a shift worth acting on."""
    edges = np.unique(np.quantile(expected, np.linspace(0, 1, bins + 1)))
    edges[0], edges[-1] = -np.inf, np.inf
    expected_share = np.histogram(expected, edges)[0] / len(expected)
    actual_share = np.histogram(actual, edges)[0] / len(actual)
    expected_share, actual_share = np.clip(expected_share, FLOOR, None), np.clip(actual_share, FLOOR, None)
    return float(np.sum((actual_share - expected_share) * np.log(actual_share / expected_share)))


def vocabulary_miss_share(tokenizer: Any, texts: Sequence[str]) -> float:
    """The share of words that `tokenizer` (a `tokenizers.Tokenizer`) cannot read as one entry
    of its vocabulary: split into pieces, or unknown. New slang, another language or another
    community's jargon raise it before any score moves."""
    tokenizer.no_truncation()
    tokenizer.no_padding()
    unknown = tokenizer.token_to_id(getattr(tokenizer.model, "unk_token", "[UNK]"))
    words = misses = 0
    for encoding in tokenizer.encode_batch(list(texts)):
        pieces = Counter(word for word in encoding.word_ids if word is not None)
        unread = {word for word, token in zip(encoding.word_ids, encoding.ids, strict=True) if token == unknown}
        words += len(pieces)
        misses += sum(1 for word, count in pieces.items() if count > 1 or word in unread)
    return misses / words if words else 0.0


def distribution_shift(expected: Counter[str], actual: Counter[str]) -> float:
    """The total variation distance between two mixes (of languages, say): the share of one
    that would have to move to make the other; 0 the same, 1 nothing in common."""
    expected_total, actual_total = sum(expected.values()), sum(actual.values())
    if not expected_total or not actual_total:
        return 0.0
    keys = expected.keys() | actual.keys()
    return 0.5 * sum(abs(expected[key] / expected_total - actual[key] / actual_total) for key in keys)
