"""Quality on real held-out comments: TF-IDF + logistic regression, `scratch` (true labels only),
`minilm` (its preset: the teacher), the distilled student (the starter model) and an ensemble
of student and TF-IDF, side by side.

Every variant learns from the same rows, the starter set less the deployment's evaluation set,
and is scored on the fixed test part of the shared files (training/starter.py), which no model,
threshold or preset choice sees. Thresholds are each model's own, chosen on its validation split.
F1 is at those thresholds; ROC-AUC and ECE on the probabilities served; each label only where
it is known (racism never is).

The teacher and the student are expensive on 2 cores (about 12 and 10 minutes): they are read
from `var/starter/` (written by `make starter-model`) or the shipped starter model when there,
and trained here otherwise. Their training times come from their own metrics.

Usage: python bench/quality.py [--shared ../shared/data]
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from common import REPO, write_result

from training.calibration import calibration_error
from training.config import TrainConfig
from training.data import label_matrix, train_val_split
from training.evaluation import evaluate
from training.inference import Scorer
from training.pipeline import run_training, tfidf_baseline
from training.starter import JIGSAW_LABELS, STUDENT, TEACHER, starter_examples, test_part

STARTER_CSV = REPO / "moderation" / "fixtures" / "starter" / "jigsaw_starter.csv"
SHIPPED_STUDENT = REPO / "moderation" / "fixtures" / "starter" / "model"
BUILT = REPO / "var" / "starter"
LATENCY_TEXT = "you are a worthless idiot and I will find you"


def test_metrics(probs: np.ndarray, thresholds: dict[str, float], test) -> dict:
    """The pipeline's own evaluation (F1 at `thresholds`, ROC-AUC, micro-F1, known rows only),
    with each label's ECE and Brier score."""
    matrix = label_matrix(test, JIGSAW_LABELS)
    figures = evaluate(probs, matrix.y, matrix.mask, JIGSAW_LABELS, thresholds)
    per_label = {}
    for j, label in enumerate(JIGSAW_LABELS):
        known = matrix.mask[:, j] > 0
        error = calibration_error(probs[known, j], matrix.y[known, j] > 0.5)
        entry = figures["labels"][label]
        per_label[label] = {key: entry[key] for key in ("known", "positives", "roc_auc", "f1")} | {
            "ece": error["ece"],
            "brier": error["brier"],
        }
    return {
        "labels": per_label,
        "macro_auc": float(np.mean([m["roc_auc"] for m in per_label.values()])),
        "macro_f1": figures["macro_f1"],
        "micro_f1": figures["micro_f1"],
        "max_ece": float(max(m["ece"] for m in per_label.values())),
    }


def speed(path: Path, texts: list[str]) -> dict:
    """Single-comment latency on 1 thread (median of 200) and batch throughput on 2 threads, as
    served (ONNX Runtime)."""
    score = Scorer(path, threads=1).score
    score([LATENCY_TEXT])
    single = []
    for _ in range(200):
        started = time.perf_counter()
        score([LATENCY_TEXT])
        single.append(time.perf_counter() - started)
    score = Scorer(path, threads=2).score
    batch = texts[:1000]
    score(batch[:50])
    started = time.perf_counter()
    score(batch)
    return {
        "single_ms_1_thread": statistics.median(single) * 1000,
        "per_s_2_threads": len(batch) / (time.perf_counter() - started),
    }


def artifact(name: str, config: dict, examples, shipped: Path | None = None) -> Path:
    """A cached artifact (`var/starter/<name>`, or the shipped one), else trained now into the cache."""
    for candidate in (BUILT / name, shipped):
        if candidate is not None and (candidate / "manifest.json").is_file():
            print(f"{name}: reusing {candidate}", file=sys.stderr)
            return candidate
    print(f"{name}: training (not cached)", file=sys.stderr)
    return run_training(TrainConfig.for_base(config), examples, BUILT, name=name).artifact_path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", default=str(REPO.parent / "shared" / "data"))
    args = parser.parse_args()
    if not (Path(args.shared) / "jigsaw_toxic_only.csv").is_file():
        print(f"the shared Jigsaw files are not at {args.shared}", file=sys.stderr)
        return 2
    examples, test = starter_examples(STARTER_CSV), test_part(args.shared)
    test_texts = [e.text for e in test]
    print(f"{len(examples)} training comments, {len(test)} test comments", file=sys.stderr)
    results = {}

    # TF-IDF + LR: the pipeline's own baseline, split and calibrated as beside a model.
    config = TrainConfig.for_base({"base_model": "scratch"})
    matrix = label_matrix(examples, config.labels)
    train_index, val_index = train_val_split(matrix, config.val_fraction, config.seed)
    texts = [e.text for e in examples]
    started = time.perf_counter()
    tfidf_probs, tfidf_thresholds = tfidf_baseline(
        config,
        [texts[i] for i in train_index],
        matrix.subset(train_index),
        [texts[i] for i in val_index],
        matrix.subset(val_index),
        predict_texts=test_texts,
    )
    tfidf_seconds = time.perf_counter() - started
    columns = [config.labels.index(label) for label in JIGSAW_LABELS]
    tfidf_test = tfidf_probs[:, columns]
    tfidf_t = {label: tfidf_thresholds[label].threshold for label in JIGSAW_LABELS}
    results["tfidf_lr"] = {"test": test_metrics(tfidf_test, tfidf_t, test), "train_s": tfidf_seconds}

    teacher = artifact("starter-teacher", TEACHER, examples)
    neural_only = {"tfidf_blend": 0.0}
    student_alone = artifact("student-neural-only", STUDENT | neural_only | {"teacher": str(teacher)}, examples)
    student = artifact("starter", STUDENT | {"teacher": str(teacher)}, examples, shipped=SHIPPED_STUDENT)
    scratch = artifact(
        "scratch-gold", {"base_model": "scratch", "max_epochs": STUDENT["max_epochs"]} | neural_only, examples
    )
    variants = {
        "scratch_gold_only": scratch,
        "minilm_teacher": teacher,
        "distilled_student": student_alone,
        "student_tfidf_blend": student,  # the starter model: what `make run` serves
    }
    for name, path in variants.items():
        scorer = Scorer(path)
        probs = scorer.score(test_texts)[:, [scorer.labels.index(label) for label in JIGSAW_LABELS]]
        thresholds = json.loads((path / "thresholds.json").read_text())
        metrics = json.loads((path / "metrics.json").read_text())
        results[name] = {
            "artifact": path.name,
            "test": test_metrics(probs, thresholds, test),
            "train_s": metrics["timings"]["total_s"],
            "teacher_scoring_s": metrics["timings"].get("teacher_s"),
            "speed": speed(path, test_texts),
        }
        print(name, f"macro AUC {results[name]['test']['macro_auc']:.4f}", file=sys.stderr)

    print(
        f"\n{'variant':<24}{'macro AUC':>10}{'macro-F1':>10}{'micro-F1':>10}{'max ECE':>9}{'train s':>9}"
        f"{'1 ms':>7}{'/s (2t)':>9}"
    )
    for name, result in results.items():
        t, s = result["test"], result.get("speed", {})
        single, batch = s.get("single_ms_1_thread", 0), s.get("per_s_2_threads", 0)
        print(
            f"{name:<24}{t['macro_auc']:>10.4f}{t['macro_f1']:>10.4f}{t['micro_f1']:>10.4f}{t['max_ece']:>9.4f}"
            f"{result.get('train_s') or 0:>9.0f}{single:>7.2f}{batch:>9.0f}"
        )
    write_result(
        "quality_jigsaw",
        {
            "training_rows": len(examples),
            "test_rows": len(test),
            "test_positives": {
                label: results["tfidf_lr"]["test"]["labels"][label]["positives"] for label in JIGSAW_LABELS
            },
            "results": results,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
