"""TF-IDF + logistic regression, one classifier per label: the bar the neural model must clear."""

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from training.data import LabelMatrix


class TfidfBaseline:
    def __init__(self, labels: Sequence[str], seed: int):
        self.labels = list(labels)
        self.seed = seed
        # Words catch vocabulary; character n-grams catch obfuscated spellings ("id1ot").
        self.features = FeatureUnion(
            [
                ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=100_000)),
                (
                    "chars",
                    TfidfVectorizer(
                        analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, max_features=100_000
                    ),
                ),
            ]
        )
        self.classifiers: dict[str, LogisticRegression | float] = {}

    def fit(self, texts: Sequence[str], matrix: LabelMatrix) -> "TfidfBaseline":
        features = self.features.fit_transform(texts)
        for j, name in enumerate(self.labels):
            known = matrix.mask[:, j] > 0
            truth = matrix.y[known, j]
            if len(np.unique(truth)) < 2:
                # One class only (or unknown everywhere): a constant prior, not a fitted model.
                self.classifiers[name] = float(truth.mean()) if len(truth) else 0.0
                continue
            classifier = LogisticRegression(C=4.0, class_weight="balanced", max_iter=2000, random_state=self.seed)
            self.classifiers[name] = classifier.fit(features[known], truth)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        features = self.features.transform(texts)
        columns = []
        for name in self.labels:
            classifier = self.classifiers[name]
            if isinstance(classifier, float):
                columns.append(np.full(features.shape[0], classifier))
            else:
                columns.append(classifier.predict_proba(features)[:, 1])
        return np.stack(columns, axis=1).astype(np.float32)
