"""TF-IDF + logistic regression, one classifier per label: a part of the served score
(TrainConfig.tfidf_blend), and the bag-of-words baseline every version is measured against.

Saved as JSON (vocabularies) and safetensors (idf, weights): like the neural model, loaded
without unpickling anything. sklearn and scipy are imported where a model is built or fitted,
not at the top: a web process imports this module at start and may never score with it.
"""

import json
from collections.abc import Callable, Sequence
from functools import cached_property
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file

from training.data import LabelMatrix

# Words catch vocabulary; character n-grams catch obfuscated spellings ("id1ot").
VECTORIZERS = {
    "words": {"ngram_range": (1, 2), "min_df": 2, "sublinear_tf": True, "max_features": 100_000},
    "chars": {"analyzer": "char_wb", "ngram_range": (2, 5), "min_df": 2, "sublinear_tf": True, "max_features": 100_000},
}
JSON_FILE, WEIGHTS_FILE = "tfidf.json", "tfidf.safetensors"


class TfidfModel:
    """`vectorizers` names the features (a comment's words and character n-grams by default;
    the span tagger's are a word in its context); `regularisation` is LogisticRegression's C."""

    def __init__(
        self,
        labels: Sequence[str],
        seed: int,
        *,
        vectorizers: dict[str, dict[str, Any]] = VECTORIZERS,
        regularisation: float = 4.0,
    ):
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.labels = list(labels)
        self.seed = seed
        self.regularisation = regularisation
        self.vectorizers = {name: TfidfVectorizer(**settings) for name, settings in vectorizers.items()}
        # A label with one class only (or unknown everywhere) gets a constant prior, not a model.
        self.constant = np.full(len(self.labels), np.nan, dtype=np.float32)
        self.coef = np.zeros((len(self.labels), 0), dtype=np.float32)
        self.intercept = np.zeros(len(self.labels), dtype=np.float32)

    def _features(self, texts: Sequence[str], fit: bool = False) -> Any:
        """The stacked TF-IDF rows (a scipy CSR matrix)."""
        from scipy import sparse

        parts = [v.fit_transform(texts) if fit else v.transform(texts) for v in self.vectorizers.values()]
        return sparse.hstack(parts, format="csr")

    def fit(self, texts: Sequence[str], matrix: LabelMatrix) -> "TfidfModel":
        from sklearn.linear_model import LogisticRegression

        features = self._features(texts, fit=True)
        self.coef = np.zeros((len(self.labels), features.shape[1]), dtype=np.float32)
        for j in range(len(self.labels)):
            known = matrix.mask[:, j] > 0
            truth = matrix.y[known, j]
            if len(np.unique(truth)) < 2:
                self.constant[j] = float(truth.mean()) if len(truth) else 0.0
                continue
            classifier = LogisticRegression(
                C=self.regularisation, class_weight="balanced", max_iter=2000, random_state=self.seed
            )
            classifier.fit(features[known], truth)
            self.coef[j], self.intercept[j] = classifier.coef_[0], classifier.intercept_[0]
        self.__dict__.pop("_scoring_tables", None)  # the new weights
        return self

    @cached_property
    def _scoring_tables(self) -> list[tuple[Callable[[str], list[int]], np.ndarray, np.ndarray]]:
        """Per vectorizer: a text's feature ids (repeated as often as they occur), its idf, and
        the weights of its columns (features × labels, contiguous)."""
        tables, offset = [], 0
        for vectorizer in self.vectorizers.values():
            width = len(vectorizer.idf_)
            weights = np.ascontiguousarray(self.coef[:, offset : offset + width].T, dtype=np.float64)
            tables.append((_feature_ids(vectorizer), vectorizer.idf_, weights))
            offset += width
        return tables

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """What each label's LogisticRegression.predict_proba gives: sigmoid(x·w + b), x each
        vectorizer's TF-IDF row. The rows are built here as sklearn's transform builds them
        (sublinear tf × idf, l2-normalised per vectorizer), for the whole batch in a few array
        operations, without its per-call validation, which cost more than the arithmetic for one
        comment (tests/training/test_tfidf.py)."""
        logits = np.tile(self.intercept.astype(np.float64), (len(texts), 1))
        for feature_ids, idf, weights in self._scoring_tables:
            found = [feature_ids(text) for text in texts]
            rows = np.repeat(np.arange(len(texts), dtype=np.int64), [len(ids) for ids in found])
            # Each (row, feature) once, with its count: one sort for the batch.
            keys, counts = np.unique(
                rows * len(idf) + np.fromiter(chain.from_iterable(found), np.int64), return_counts=True
            )
            rows, columns = np.divmod(keys, len(idf))
            values = (1.0 + np.log(counts)) * idf[columns]
            norms = np.sqrt(np.bincount(rows, values * values, minlength=len(texts)))
            values /= norms[rows]
            # Each row's sum of value × weight, over its run of entries (rows come sorted).
            present, starts = np.unique(rows, return_index=True)
            if len(present):
                logits[present] += np.add.reduceat(values[:, None] * weights[columns], starts, axis=0)
        probs = 1.0 / (1.0 + np.exp(-logits))
        constant = ~np.isnan(self.constant)
        probs[:, constant] = self.constant[constant]
        return probs.astype(np.float32)

    def save(self, directory: Path) -> None:
        record = {
            "labels": self.labels,
            "seed": self.seed,
            "vocabularies": {
                name: {t: int(i) for t, i in v.vocabulary_.items()} for name, v in self.vectorizers.items()
            },
        }
        (directory / JSON_FILE).write_text(json.dumps(record, separators=(",", ":")))
        arrays = {f"idf_{name}": v.idf_.astype(np.float32) for name, v in self.vectorizers.items()}
        save_file(
            arrays | {"coef": self.coef, "intercept": self.intercept, "constant": self.constant},
            directory / WEIGHTS_FILE,
        )

    @classmethod
    def load(cls, directory: Path, *, vectorizers: dict[str, dict[str, Any]] = VECTORIZERS) -> "TfidfModel":
        """`vectorizers`: the settings it was built with (the files hold vocabularies and weights)."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        record = json.loads((directory / JSON_FILE).read_text())
        arrays = load_file(directory / WEIGHTS_FILE)
        baseline = cls(record["labels"], record["seed"], vectorizers=vectorizers)
        for name, settings in vectorizers.items():
            vectorizer = TfidfVectorizer(**settings, vocabulary=record["vocabularies"][name])
            vectorizer.idf_ = arrays[f"idf_{name}"].astype(np.float64)
            baseline.vectorizers[name] = vectorizer
        baseline.coef, baseline.intercept, baseline.constant = arrays["coef"], arrays["intercept"], arrays["constant"]
        return baseline


# Words whose character n-grams' ids are kept (per vectorizer): comments reuse few words often.
WORD_CACHE_SIZE = 200_000


def _feature_ids(vectorizer: Any) -> Callable[[str], list[int]]:
    """A text's feature ids in `vectorizer`'s vocabulary, one per occurrence: what its analyzer
    yields, looked up. A `char_wb` vectorizer's n-grams never cross a word's edge, so a text's
    are the concatenation of its words' (sklearn splits the preprocessed text on whitespace):
    each word's ids are worked out once and kept. Making the n-grams in Python was half the
    scoring cost of a comment (docs/benchmarks.md)."""
    vocabulary = vectorizer.vocabulary_
    if vectorizer.analyzer != "char_wb":
        analyze = vectorizer.build_analyzer()
        return lambda text: [index for index in map(vocabulary.get, analyze(text)) if index is not None]
    preprocess, ngrams = vectorizer.build_preprocessor(), vectorizer._char_wb_ngrams
    cache: dict[str, list[int]] = {}

    def feature_ids(text: str) -> list[int]:
        found: list[int] = []
        for word in preprocess(text).split():
            ids = cache.get(word)
            if ids is None:
                if len(cache) >= WORD_CACHE_SIZE:
                    cache.clear()
                ids = cache[word] = [index for index in map(vocabulary.get, ngrams(word)) if index is not None]
            found += ids
        return found

    return feature_ids
