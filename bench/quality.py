"""Quality on the real Jigsaw sample: scratch, minilm and the TF-IDF baseline, each with
holdout and out-of-fold (k-fold) threshold calibration, scored on test rows that neither
training nor calibration saw.

The 1,825 rows are cut into 5 label-stratified outer folds. For each outer fold, every variant
trains (and calibrates) on the other four and predicts the held-out one; the five test folds'
predictions are then pooled, so a rare label (threat: 7 positives in all) is measured on all of
its positives at once. F1 uses each fold's own calibrated thresholds; AUC the raw scores.

Usage: python bench/quality.py [--outer-folds 5] [--minilm-folds 1] [--variants scratch:holdout,...]
"""

import argparse
import sys
import tempfile
import time
from collections import defaultdict

import numpy as np
from common import JIGSAW_CSV, write_result
from sklearn.metrics import roc_auc_score

from training import DEFAULT_LABELS
from training.calibration import threshold_values
from training.config import TrainConfig
from training.data import canonical_order, iterative_stratified_folds, label_matrix, read_csv_examples, train_val_split
from training.inference import Scorer
from training.pipeline import run_training, tfidf_baseline

DEFAULT_VARIANTS = "tfidf:holdout,tfidf:oof,scratch:holdout,scratch:oof,minilm:holdout"
LABELS = [label for label in DEFAULT_LABELS if label != "racism"]  # unknown on every Jigsaw row


def tfidf_fold(dev_texts, dev_matrix, test_texts, calibration: str, config: TrainConfig):
    """The baseline, split and calibrated exactly as the pipeline does it beside the model."""
    train_index, val_index = train_val_split(dev_matrix, config.val_fraction, config.seed)
    probs, thresholds = tfidf_baseline(
        config.replace(calibration=calibration),
        [dev_texts[i] for i in train_index],
        dev_matrix.subset(train_index),
        [dev_texts[i] for i in val_index],
        dev_matrix.subset(val_index),
        predict_texts=test_texts,
    )
    return probs, threshold_values(thresholds), None


def model_fold(dev_examples, test_texts, base: str, calibration: str, config: TrainConfig):
    with tempfile.TemporaryDirectory() as out:
        outcome = run_training(config.replace(base_model=base, calibration=calibration), dev_examples, out, name="q")
        scorer = Scorer(outcome.artifact_path)
        return scorer.score(test_texts), outcome.thresholds, outcome.metrics["timings"]["total_s"]


def pooled_metrics(probs, predicted, matrix) -> dict:
    per_label, totals = {}, np.zeros(3)
    for j, name in enumerate(LABELS):
        known = matrix.mask[:, j] > 0
        truth = matrix.y[known, j] > 0.5
        guess = predicted[known, j]
        tp, fp, fn = (float(np.sum(guess & truth)), float(np.sum(guess & ~truth)), float(np.sum(~guess & truth)))
        totals += (tp, fp, fn)
        per_label[name] = {
            "positives": int(truth.sum()),
            "f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
            "precision": tp / (tp + fp) if tp + fp else 0.0,
            "recall": tp / (tp + fn) if tp + fn else 0.0,
            "roc_auc": float(roc_auc_score(truth, probs[known, j])),
        }
    tp, fp, fn = totals
    return {
        "labels": per_label,
        "macro_f1": float(np.mean([m["f1"] for m in per_label.values()])),
        "micro_f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
        "macro_auc": float(np.mean([m["roc_auc"] for m in per_label.values()])),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outer-folds", type=int, default=5)
    parser.add_argument(
        "--minilm-folds",
        type=int,
        default=1,
        help="outer folds for minilm (~4 min each on 2 CPU cores); its pooled metrics cover only those",
    )
    parser.add_argument("--minilm-epochs", type=int, default=3)
    parser.add_argument("--variants", default=DEFAULT_VARIANTS)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    if not JIGSAW_CSV.is_file():
        print(f"error: the quality benchmark needs {JIGSAW_CSV} (../shared/data)", file=sys.stderr)
        return 1

    examples = canonical_order(read_csv_examples(JIGSAW_CSV, LABELS))
    matrix = label_matrix(examples, LABELS)
    texts = [e.text for e in examples]
    outer = iterative_stratified_folds(matrix, 5, args.seed)
    config = TrainConfig(labels=tuple(LABELS), seed=args.seed, baseline=False)
    variants = [tuple(v.split(":")) for v in args.variants.split(",")]
    probs = {v: np.zeros_like(matrix.y) for v in variants}
    predicted = {v: np.zeros(matrix.y.shape, dtype=bool) for v in variants}
    covered = {v: np.zeros(len(examples), dtype=bool) for v in variants}
    seconds = defaultdict(float)
    for fold in range(args.outer_folds):
        dev, test = np.flatnonzero(outer != fold), np.flatnonzero(outer == fold)
        dev_examples = [examples[i] for i in dev]
        test_texts = [texts[i] for i in test]
        for variant in variants:
            base, calibration = variant
            if base == "minilm" and fold >= args.minilm_folds:
                continue
            started = time.perf_counter()
            if base == "tfidf":
                fold_probs, thresholds, _ = tfidf_fold(
                    [texts[i] for i in dev], matrix.subset(dev), test_texts, calibration, config
                )
            else:
                variant_config = config.replace(max_epochs=args.minilm_epochs) if base == "minilm" else config
                fold_probs, thresholds, _ = model_fold(dev_examples, test_texts, base, calibration, variant_config)
            seconds[variant] += time.perf_counter() - started
            probs[variant][test] = fold_probs
            predicted[variant][test] = fold_probs >= np.array([thresholds[name] for name in LABELS])
            covered[variant][test] = True
            print(f"fold {fold}: {base}:{calibration} done in {time.perf_counter() - started:.0f} s", flush=True)

    results = {}
    for variant in variants:
        rows = covered[variant]
        metrics = pooled_metrics(probs[variant][rows], predicted[variant][rows], matrix.subset(np.flatnonzero(rows)))
        results[":".join(variant)] = {**metrics, "test_rows": int(rows.sum()), "seconds": seconds[variant]}

    header = f"{'variant':<16} {'rows':>5} {'macroF1':>8} {'microF1':>8} {'macroAUC':>8} " + " ".join(
        f"{name[:8]:>8}" for name in LABELS
    )
    print(f"\nPooled test metrics (F1 per label; {args.outer_folds} outer folds)")
    print(header)
    for name, metrics in results.items():
        print(
            f"{name:<16} {metrics['test_rows']:>5} {metrics['macro_f1']:>8.3f} {metrics['micro_f1']:>8.3f} "
            f"{metrics['macro_auc']:>8.3f} " + " ".join(f"{metrics['labels'][n]['f1']:>8.3f}" for n in LABELS)
        )
    print("AUC per label:")
    for name, metrics in results.items():
        print(f"{name:<16} " + " ".join(f"{metrics['labels'][n]['roc_auc']:>8.3f}" for n in LABELS))
    write_result(
        "quality_jigsaw",
        {
            "data": "jigsaw_sample.csv",
            "rows": len(examples),
            "outer_folds": args.outer_folds,
            "minilm_folds": args.minilm_folds,
            "minilm_epochs": args.minilm_epochs,
            "results": results,
            "note": "racism is unknown on every Jigsaw row and is not evaluated",
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
