"""Comments per second, and the time for one comment, by the scoring service alone (no HTTP, no
database), for each base model and each runtime side by side in one run: torch, ONNX Runtime,
and ONNX Runtime with the int8-quantised model, on 1 and 2 threads.

Each model is trained for one epoch first, with no TF-IDF blend, so the transformer's own cost
is measured (quality is not measured here, only speed). Real Jigsaw comments, long ones read in
several windows as in serving.
Usage: python bench/score_throughput.py [--bases scratch,minilm] [--texts 2000] [--budget-s 10]
"""

import argparse
import tempfile
import time

import numpy as np
import torch
from common import corpus, write_result

from training.config import TrainConfig
from training.inference import Scorer
from training.onnx_model import RUNTIMES
from training.pipeline import run_training

BATCH_SIZES = (64, 1000)
SINGLES = 200


def throughput(scorer: Scorer, texts: list[str], batch_size: int, budget_s: float) -> float:
    """Comments per second scoring `texts` in calls of `batch_size`, for at most `budget_s`."""
    scorer.score(texts[:batch_size])  # warm-up
    done, started = 0, time.perf_counter()
    while done < len(texts) and time.perf_counter() - started < budget_s:
        chunk = texts[done : done + batch_size]
        scorer.score(chunk)
        done += len(chunk)
    return done / (time.perf_counter() - started)


def single_ms(scorer: Scorer, texts: list[str]) -> dict:
    """One comment per call, as a single submit scores it."""
    times = []
    for text in texts[:SINGLES]:
        started = time.perf_counter()
        scorer.score([text])
        times.append((time.perf_counter() - started) * 1000)
    return {"p50": float(np.percentile(times, 50)), "p95": float(np.percentile(times, 95))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bases", default="scratch,minilm")
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--budget-s", type=float, default=10.0, help="time limit per measurement")
    args = parser.parse_args()
    examples, source = corpus()
    texts = [examples[i % len(examples)].text for i in range(args.texts)]
    results = {}
    with tempfile.TemporaryDirectory() as out:
        for base in args.bases.split(","):
            # MiniLM trains at ~16 comments/s here: a few hundred rows make its artifact.
            train_rows = examples if base == "scratch" else examples[:300]
            config = TrainConfig(base_model=base, max_epochs=1, baseline=False, tfidf_blend=0.0)
            outcome = run_training(config, train_rows, out, name=base)
            results[base] = {"served_forms": outcome.metrics["served_forms"]}
            for threads in (1, 2):
                torch.set_num_threads(threads)
                for runtime in RUNTIMES:
                    scorer = Scorer(outcome.artifact_path, runtime=runtime, threads=threads)
                    row = {"single_ms": single_ms(scorer, texts)}
                    for batch_size in BATCH_SIZES:
                        row[f"batch_{batch_size}_per_s"] = throughput(scorer, texts, batch_size, args.budget_s)
                    results[base][f"{runtime},threads={threads}"] = row
                    print(
                        f"{base:<8} {runtime:<10} threads {threads}: "
                        f"one comment p50 {row['single_ms']['p50']:6.2f} ms, "
                        + ", ".join(f"batch {b}: {row[f'batch_{b}_per_s']:6.0f}/s" for b in BATCH_SIZES),
                        flush=True,
                    )
    write_result("score_throughput", {"data": source, "texts": args.texts, "results": results})


if __name__ == "__main__":
    main()
