import numpy as np

from training.batches import EncodedDataset
from training.data import Example, label_matrix


def test_length_bucketed_batches_cover_every_row_once_with_little_padding():
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 128, size=1000)
    token_ids = [[1] * int(n) for n in lengths]
    matrix = label_matrix([Example("x", {})] * 1000, ["toxic"])
    dataset = EncodedDataset(token_ids, matrix, pad_id=0)
    batches = list(dataset.training_batches(16, bucket_batches=50, rng=np.random.default_rng(1)))
    seen = np.concatenate([b.index for b in batches])
    assert sorted(seen.tolist()) == list(range(1000))
    efficiency = sum(b.real_tokens for b in batches) / sum(b.padded_tokens for b in batches)
    assert efficiency > 0.9
    assert max(b.input_ids.shape[1] for b in batches) <= 128
    batch = batches[0]
    assert batch.attention_mask.sum(dim=1).tolist() == lengths[batch.index].tolist()
