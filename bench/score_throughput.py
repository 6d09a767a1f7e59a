"""Comments per second, and the time for one comment, by the scoring service alone (no HTTP, no
database), for each base model and each runtime side by side in one run: torch, ONNX Runtime,
and ONNX Runtime with the int8-quantised model, on 1 and 2 threads.

Each model is trained for one epoch first, with no TF-IDF blend, so the transformer's own cost
is measured (quality is not measured here, only speed). Real Jigsaw comments, long ones read in
several windows as in serving.
With --cascade, the shipped starter model instead, as it is served (the TF-IDF blend), on the
Jigsaw test part's texts (which it never saw), with and without its scoring cascade
(training/cascade.py) side by side: comments/s in batches of 1,000 on 1 and 2 threads, the
share of comments that skip the transformer, the macro ROC-AUC of each on the test part's
labels, and the bias and robustness figures beside.
Usage: python bench/score_throughput.py [--bases scratch,minilm] [--texts 2000] [--budget-s 10]
       python bench/score_throughput.py --cascade [--budget-s 10]
       python bench/score_throughput.py --compare /tmp/before --compare . [--rounds 4]
With --compare, the cascade's comments/s (batches of 1,000, 1 and 2 threads) of each checkout's
own code and starter model, each in a fresh process, the checkouts in turn round after round,
so that a before/after pair shares the machine's noise (`git worktree add /tmp/before REV`).
"""

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from common import REPO, corpus, write_result

from training.config import TrainConfig
from training.data import label_matrix
from training.inference import Scorer
from training.onnx_model import RUNTIMES
from training.pipeline import run_training

BATCH_SIZES = (64, 1000)
STARTER = REPO / "moderation" / "fixtures" / "starter" / "model"
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


def cascade(budget_s: float) -> None:
    from training.cascade import trust_beside
    from training.evaluation import macro_roc_auc
    from training.starter import JIGSAW_LABELS, test_part

    test = test_part(REPO.parent / "shared" / "data")
    texts = [example.text for example in test]
    results: dict = {"texts": len(texts)}
    for threads in (1, 2):
        for name, on in (("full", False), ("cascade", True)):
            scorer = Scorer(STARTER, threads=threads, cascade=on)
            results[f"{name},threads={threads}"] = throughput(scorer, texts, 1000, budget_s)
    full, cascaded = Scorer(STARTER, threads=2), Scorer(STARTER, threads=2, cascade=True)
    labels = full.labels
    matrix = label_matrix(test, labels)
    known = [j for j, label in enumerate(labels) if label in JIGSAW_LABELS]
    probs = {"full": full.score(texts), "cascade": cascaded.score(texts)}
    auc = {name: macro_roc_auc(p[:, known], matrix.y[:, known], matrix.mask[:, known]) for name, p in probs.items()}
    j = labels.index("toxic")
    toxic = [example.text for example in test if example.labels.get("toxic")]
    results |= {
        "skip_share": float(cascaded.skipped(texts).mean()),
        "macro_roc_auc": auc,
        "auc_loss": auc["full"] - auc["cascade"],
        "band": cascaded.band.to_dict() if cascaded.band else None,
        "trust": trust_beside(
            lambda t: full.score(t)[:, j], lambda t: cascaded.score(t)[:, j], toxic, full.artifact.thresholds()["toxic"]
        ),
    }
    for threads in (1, 2):
        results[f"speedup,threads={threads}"] = (
            results[f"cascade,threads={threads}"] / results[f"full,threads={threads}"]
        )
    print(results)
    write_result("score_throughput_cascade", {"data": "the Jigsaw test part (training/starter.py)", **results})


# Run by each checkout's own interpreter on its own code: (checkout, threads) → comments/s.
RATE_SCRIPT = """
import sys, time
sys.path.insert(0, sys.argv[1])
from training.inference import Scorer
from training.starter import test_part
texts = [e.text for e in test_part(sys.argv[2])]
scorer = Scorer(sys.argv[1] + "/moderation/fixtures/starter/model", threads=int(sys.argv[3]), cascade=True)
scorer.score(texts[:1000])
started = time.perf_counter()
for i in range(0, 4000, 1000):
    scorer.score(texts[i : i + 1000])
print(4000 / (time.perf_counter() - started))
"""


def compare(checkouts: list[Path], rounds: int) -> None:
    from boot_time import python_of

    shared = str(REPO.parent / "shared" / "data")
    rates: dict[str, dict[int, list[float]]] = {str(c): {1: [], 2: []} for c in checkouts}
    for _ in range(rounds):
        for checkout in checkouts:
            for threads in (1, 2):
                command = [python_of(checkout), "-c", RATE_SCRIPT, str(checkout), shared, str(threads)]
                done = subprocess.run(command, cwd=checkout, check=True, capture_output=True, text=True)
                rate = float(done.stdout.split()[-1])
                rates[str(checkout)][threads].append(rate)
    rows = []
    for checkout in checkouts:
        revision = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=checkout, capture_output=True, text=True)
        row = {"checkout": str(checkout), "revision": revision.stdout.strip(), "rounds": rates[str(checkout)]}
        row |= {f"cascade,threads={t},median": statistics.median(r) for t, r in rates[str(checkout)].items()}
        rows.append(row)
        print(json.dumps(row))
    data = "the Jigsaw test part's first 4,000 texts"
    write_result("score_throughput_cascade_compare", {"data": data, "checkouts": rows})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bases", default="scratch,minilm")
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--budget-s", type=float, default=10.0, help="time limit per measurement")
    parser.add_argument("--cascade", action="store_true", help="the starter model with and without its cascade")
    parser.add_argument("--compare", type=Path, action="append", help="a checkout whose cascade to measure in turn")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    if args.compare:
        compare([checkout.resolve() for checkout in args.compare], args.rounds)
        return
    if args.cascade:
        cascade(args.budget_s)
        return
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
