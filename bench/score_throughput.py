"""Comments scored per second by the inference service alone (no HTTP, no database), by the
number of comments per call (the service sorts each call by length and runs forward passes of
at most 64), for the BERT-tiny-shaped `scratch` model and the pretrained `minilm` one.

Each model is trained for one epoch first (quality is not measured here, only speed).
Usage: python bench/score_throughput.py [--bases scratch,minilm] [--texts 2000]
"""

import argparse
import tempfile
import time

import torch
from common import corpus, write_result

from training.config import TrainConfig
from training.inference import Scorer
from training.pipeline import run_training

BATCH_SIZES = (1, 8, 32, 64, 256, 1000)


def measure(scorer: Scorer, texts: list[str], batch_size: int, budget_s: float) -> float:
    """Comments per second scoring `texts` in calls of `batch_size`, for at most `budget_s`."""
    scorer.score(texts[:batch_size])  # warm-up
    done, started = 0, time.perf_counter()
    while done < len(texts) and time.perf_counter() - started < budget_s:
        chunk = texts[done : done + batch_size]
        scorer.score(chunk)
        done += len(chunk)
    return done / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bases", default="scratch,minilm")
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--budget-s", type=float, default=20.0, help="time limit per measurement")
    args = parser.parse_args()
    examples, source = corpus()
    texts = [examples[i % len(examples)].text for i in range(args.texts)]
    results = {}
    all_cores = torch.get_num_threads()
    with tempfile.TemporaryDirectory() as out:
        for base in args.bases.split(","):
            # MiniLM trains at ~16 comments/s here: a few hundred rows make its artifact.
            train_rows = examples if base == "scratch" else examples[:300]
            config = TrainConfig(base_model=base, max_epochs=1, baseline=False)
            outcome = run_training(config, train_rows, out, name=base)
            scorer = Scorer(outcome.artifact_path)  # forward passes of at most 64, as in the service
            results[base] = {}
            for threads in (all_cores, 1):
                torch.set_num_threads(threads)
                for batch_size in BATCH_SIZES:
                    rate = measure(scorer, texts, batch_size, args.budget_s)
                    results[base][f"threads={threads},batch={batch_size}"] = rate
                    print(f"{base:<8} threads {threads}  batch {batch_size:>4}: {rate:8.0f} comments/s", flush=True)
            torch.set_num_threads(all_cores)
    write_result("score_throughput", {"data": source, "texts": args.texts, "comments_per_s": results})


if __name__ == "__main__":
    main()
