"""What a training run reports while it runs, and how a caller stops it: shared by the loop and
the platform's services, which must not import torch to read them."""

from collections.abc import Callable
from dataclasses import dataclass


class TrainingCancelled(Exception):
    """Raised by a progress callback to stop a run cleanly at the next step."""


@dataclass(frozen=True)
class Progress:
    phase: str
    epoch: int
    total_epochs: int
    step: int
    total_steps: int
    loss: float | None = None
    val_macro_f1: float | None = None


ProgressCallback = Callable[[Progress], None]
