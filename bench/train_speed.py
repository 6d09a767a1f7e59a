"""Train + calibrate the BERT-tiny-shaped model on 10,000 comments (2,000 more for validation)
for 3 epochs on this machine's CPU; report wall time, examples/s and padding efficiency.

The reference took about 8 minutes on CPU; the target is under 90 seconds.
Usage: python bench/train_speed.py [--calibration holdout|oof] [--train-size 10000]
"""

import argparse
import tempfile
import time

from common import corpus, write_result

from training.config import TrainConfig
from training.data import Example
from training.pipeline import run_training


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train-size", type=int, default=10_000)
    parser.add_argument("--val-size", type=int, default=2_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--calibration", choices=["holdout", "oof"], default="holdout")
    args = parser.parse_args()

    base, source = corpus()
    total = args.train_size + args.val_size
    # Cycle the real comments up to the size asked for; a numbered suffix keeps each text
    # distinct so the split and hashing treat them as separate rows. Speed, not quality, is measured.
    examples = [Example(f"{base[i % len(base)].text} #{i}", base[i % len(base)].labels) for i in range(total)]
    config = TrainConfig(
        base_model="scratch",
        max_epochs=args.epochs,
        patience=args.epochs,
        val_fraction=args.val_size / total,
        calibration=args.calibration,
        baseline=False,
    )
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        outcome = run_training(config, examples, out, name="speed")
        wall = time.perf_counter() - started
    metrics = outcome.metrics
    timings = metrics["timings"]
    fixed_padding_efficiency = metrics["throughput"]["padding_efficiency_vs_max_len"]
    result = {
        "data": source,
        "train_size": outcome.train_size,
        "val_size": outcome.val_size,
        "epochs": len(metrics["learning_curve"]),
        "calibration": args.calibration,
        "wall_s": wall,
        "train_plus_calibrate_s": timings["train_s"] + timings["calibrate_s"],
        "timings": timings,
        "train_examples_per_s": metrics["throughput"]["train_examples_per_s"],
        "padding_efficiency": metrics["throughput"]["padding_efficiency"],
        "padding_efficiency_if_padded_to_max_len": fixed_padding_efficiency,
        "target_s": 90,
        "reference_s": 480,
    }
    print(
        f"data: {source}, {outcome.train_size} train / {outcome.val_size} val, {result['epochs']} epochs, "
        f"calibration {args.calibration}"
    )
    print(
        f"train + calibrate: {result['train_plus_calibrate_s']:.1f} s (wall {wall:.1f} s; target < 90 s, "
        f"reference ~480 s)"
    )
    print(f"training throughput: {result['train_examples_per_s']:.0f} examples/s")
    print(
        f"padding efficiency: {result['padding_efficiency']:.1%} real tokens "
        f"(padding every batch to 128 would give {fixed_padding_efficiency:.1%})"
    )
    write_result(f"train_speed_{args.calibration}", result)


if __name__ == "__main__":
    main()
