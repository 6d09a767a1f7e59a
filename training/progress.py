"""What a training run reports while it runs, and how a caller stops it: shared by the loop and
the platform's services, which must not import torch to read them."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


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


def progress_bar() -> tuple[Any, ProgressCallback]:
    """A tqdm bar on stderr and the callback that moves it: what a command-line run shows."""
    import sys

    from tqdm import tqdm

    bar = tqdm(total=0, unit="step", desc="prepare", file=sys.stderr)

    def show(progress: Progress) -> None:
        if bar.total != progress.total_steps:
            bar.reset(total=progress.total_steps)
        bar.set_description(
            progress.phase
            if not progress.total_epochs
            else f"{progress.phase} epoch {progress.epoch}/{progress.total_epochs}"
        )
        bar.n = progress.step
        postfix = {}
        if progress.loss is not None:
            postfix["loss"] = f"{progress.loss:.4f}"
        if progress.val_macro_f1 is not None:
            postfix["val_macro_f1"] = f"{progress.val_macro_f1:.3f}"
        bar.set_postfix(postfix, refresh=True)

    return bar, show
