"""Shared test settings: a model small enough to train on the demo set in seconds."""

from pathlib import Path

from training.config import TrainConfig

REPO = Path(__file__).resolve().parent.parent
DEMO_CSV = REPO / "moderation" / "fixtures" / "demo_comments.csv"
JIGSAW_CSV = REPO.parent / "shared" / "data" / "jigsaw_sample.csv"


def tiny_config(**changes) -> TrainConfig:
    values = dict(
        base_model="scratch",
        max_epochs=3,
        patience=2,
        vocab_size=1500,
        scratch_hidden=32,
        scratch_layers=1,
        scratch_heads=2,
        scratch_intermediate=64,
        lr=3e-3,
        batch_size=16,
        max_len=64,
        baseline=False,
        num_threads=1,
        # Augmentation's template rows outnumber the demo set: its own tests turn it on.
        augment=False,
    )
    values.update(changes)
    return TrainConfig(**values)
