"""Scoring texts with a trained artifact."""

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from training.artifacts import load_artifact
from training.data import EncodedDataset, LabelMatrix
from training.loop import predict


def encode(tokenizer, texts: Sequence[str], max_len: int) -> list[list[int]]:
    tokenizer.enable_truncation(max_length=max_len)
    tokenizer.no_padding()
    return [encoding.ids for encoding in tokenizer.encode_batch(list(texts))]


def unlabelled(token_ids: list[list[int]], n_labels: int, pad_id: int) -> EncodedDataset:
    empty = np.zeros((len(token_ids), n_labels), dtype=np.float32)
    return EncodedDataset(token_ids, LabelMatrix(y=empty, mask=empty), pad_id)


class Scorer:
    """A loaded model that turns texts into per-label probabilities. Thresholds are not its
    business: a version's thresholds are the database's (ModelVersion.thresholds)."""

    def __init__(self, artifact_path: str | Path, *, root: str | Path | None = None, batch_size: int = 64):
        self.artifact = load_artifact(artifact_path, root)
        self.labels: list[str] = list(self.artifact.labels)
        self.max_len: int = self.artifact.config["max_len"]
        self.pad_id: int = self.artifact.config["pad_id"]
        self.batch_size = batch_size

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), len(labels)) probabilities, in the order given."""
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        dataset = unlabelled(encode(self.artifact.tokenizer, texts, self.max_len), len(self.labels), self.pad_id)
        return predict(self.artifact.model, dataset, batch_size=self.batch_size)

    def score_dicts(self, texts: Sequence[str]) -> list[dict[str, float]]:
        return [dict(zip(self.labels, map(float, row), strict=True)) for row in self.score(texts)]
