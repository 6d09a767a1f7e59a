"""TF-IDF + logistic regression, one classifier per label: a part of the served score
(TrainConfig.tfidf_blend), and the bag-of-words baseline every version is measured against.

Saved as JSON (vocabularies) and safetensors (idf, weights): like the neural model, loaded
without unpickling anything. sklearn and scipy are imported where a model is built or fitted,
not at the top: a web process imports this module at start and may never score with it.
"""

import json
from collections.abc import Sequence
from functools import cached_property
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
    def __init__(self, labels: Sequence[str], seed: int):
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.labels = list(labels)
        self.seed = seed
        self.vectorizers = {name: TfidfVectorizer(**settings) for name, settings in VECTORIZERS.items()}
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
            classifier = LogisticRegression(C=4.0, class_weight="balanced", max_iter=2000, random_state=self.seed)
            classifier.fit(features[known], truth)
            self.coef[j], self.intercept[j] = classifier.coef_[0], classifier.intercept_[0]
        self.__dict__.pop("_scoring_tables", None)  # the new weights
        return self

    @cached_property
    def _scoring_tables(self) -> list[tuple[Any, dict[str, int], np.ndarray, np.ndarray]]:
        """Per vectorizer: its analyzer, vocabulary, idf, and the weights of its columns
        (features × labels, contiguous)."""
        tables, offset = [], 0
        for vectorizer in self.vectorizers.values():
            width = len(vectorizer.idf_)
            weights = np.ascontiguousarray(self.coef[:, offset : offset + width].T, dtype=np.float64)
            tables.append((vectorizer.build_analyzer(), vectorizer.vocabulary_, vectorizer.idf_, weights))
            offset += width
        return tables

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """What each label's LogisticRegression.predict_proba gives: sigmoid(x·w + b), x each
        vectorizer's TF-IDF row. The rows are built here as sklearn's transform builds them
        (sublinear tf × idf, l2-normalised per vectorizer) without its per-call validation,
        which cost more than the arithmetic for one comment (tests/training/test_tfidf.py)."""
        logits = np.tile(self.intercept.astype(np.float64), (len(texts), 1))
        for row, text in enumerate(texts):
            for analyze, vocabulary, idf, weights in self._scoring_tables:
                found = [index for index in map(vocabulary.get, analyze(text)) if index is not None]
                if not found:
                    continue
                ids, counts = np.unique(np.asarray(found, dtype=np.int64), return_counts=True)
                values = (1.0 + np.log(counts)) * idf[ids]
                logits[row] += (values / np.sqrt(values @ values)) @ weights[ids]
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
    def load(cls, directory: Path) -> "TfidfModel":
        from sklearn.feature_extraction.text import TfidfVectorizer

        record = json.loads((directory / JSON_FILE).read_text())
        arrays = load_file(directory / WEIGHTS_FILE)
        baseline = cls(record["labels"], record["seed"])
        for name, settings in VECTORIZERS.items():
            vectorizer = TfidfVectorizer(**settings, vocabulary=record["vocabularies"][name])
            vectorizer.idf_ = arrays[f"idf_{name}"].astype(np.float64)
            baseline.vectorizers[name] = vectorizer
        baseline.coef, baseline.intercept, baseline.constant = arrays["coef"], arrays["intercept"], arrays["constant"]
        return baseline
