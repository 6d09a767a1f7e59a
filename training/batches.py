"""Encoded examples → length-bucketed torch batches, for training and torch scoring."""

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from training.data import LabelMatrix


@dataclass(frozen=True)
class Batch:
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    y: torch.Tensor
    mask: torch.Tensor
    index: np.ndarray  # rows of the dataset in this batch

    @property
    def padded_tokens(self) -> int:
        return int(self.input_ids.numel())

    @property
    def real_tokens(self) -> int:
        return int(self.attention_mask.sum())


class EncodedDataset:
    """Token ids (tokenised once, variable length) and their labels."""

    def __init__(self, token_ids: list[list[int]], matrix: LabelMatrix, pad_id: int):
        self.token_ids = token_ids
        self.lengths = np.array([len(ids) for ids in token_ids])
        self.matrix = matrix
        self.pad_id = pad_id

    def __len__(self) -> int:
        return len(self.token_ids)

    def subset(self, index: np.ndarray) -> "EncodedDataset":
        return EncodedDataset([self.token_ids[i] for i in index], self.matrix.subset(index), self.pad_id)

    def collate(self, index: np.ndarray) -> Batch:
        width = int(self.lengths[index].max())
        input_ids = torch.full((len(index), width), self.pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(index), width), dtype=torch.long)
        for row, i in enumerate(index):
            ids = self.token_ids[i]
            input_ids[row, : len(ids)] = torch.tensor(ids)
            attention_mask[row, : len(ids)] = 1
        return Batch(
            input_ids=input_ids,
            attention_mask=attention_mask,
            y=torch.from_numpy(self.matrix.y[index]),
            mask=torch.from_numpy(self.matrix.mask[index]),
            index=index,
        )

    def training_batches(self, batch_size: int, bucket_batches: int, rng: np.random.Generator) -> Iterator[Batch]:
        """Shuffled batches of similar length: each window of `bucket_batches` batches is sorted
        by length before it is cut, then the batches' order is shuffled, so padding stays small
        while every epoch still sees a different mix."""
        order = rng.permutation(len(self))
        window = batch_size * bucket_batches
        batches: list[np.ndarray] = []
        for start in range(0, len(order), window):
            chunk = order[start : start + window]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
        for b in rng.permutation(len(batches)):
            yield self.collate(batches[b])

    def inference_batches(self, batch_size: int) -> Iterator[Batch]:
        """Batches in length order: the least padding possible."""
        order = np.argsort(self.lengths, kind="stable")
        for start in range(0, len(order), batch_size):
            yield self.collate(order[start : start + batch_size])


def unlabelled(token_ids: list[list[int]], n_labels: int, pad_id: int) -> EncodedDataset:
    """Texts to score: their labels are all unknown."""
    empty = np.zeros((len(token_ids), n_labels), dtype=np.float32)
    return EncodedDataset(token_ids, LabelMatrix(y=empty, mask=empty), pad_id)
