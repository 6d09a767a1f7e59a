"""Quality on real held-out comments, and trust: side by side in one run, TF-IDF + logistic
regression (on raw and on normalised text), the previous starter model, the MiniLM teacher (also
served int8), and the new starter model (a distilled student blended with TF-IDF).

Every variant learns from the same rows, the starter set less the deployment's evaluation set,
and is scored on the fixed test parts of the shared files (training/starter.py), which no model,
threshold or preset choice sees. Thresholds are each model's own, chosen on its validation split.
F1 is at those thresholds; ROC-AUC and ECE on the probabilities served; each label only where
it is known (racism never is). For each variant:
- Jigsaw test part: macro and per-label ROC-AUC, macro-F1, micro-F1;
- the typed Civil Comments test part: threat and identity_hate ROC-AUC, and recall at the
  served threshold (posts two or more annotators marked);
- identity bias on this project's evaluation templates (training/templates.py): the final bias
  metric, the worst five terms, non-toxic identity sentences flagged;
- the share of caught toxic test comments still caught under each disguise;
- training time, and the cost of normalising a comment.

The teacher and the student are expensive on 2 cores: they are read from `var/starter/`
(written by `make starter-model`), and the previous starter from `var/starter-previous/` when
there (a copy of the model the repository shipped before). `--train-missing` trains what is
absent.

Usage: python bench/quality.py [--shared ../shared/data] [--train-missing]
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
from training.fairness import robustness_report, template_bias
from training.inference import Scorer
from training.normalise import normalise
from training.pipeline import run_training, tfidf_baseline
from training.starter import JIGSAW_LABELS, STUDENT, TEACHER, starter_examples, test_part
from training.tfidf import TfidfModel

STARTER_CSV = REPO / "moderation" / "fixtures" / "starter" / "jigsaw_starter.csv"
SHIPPED_STUDENT = REPO / "moderation" / "fixtures" / "starter" / "model"
BUILT = REPO / "var" / "starter"
PREVIOUS = REPO / "var" / "starter-previous" / "starter-previous"
RARE = ("threat", "identity_hate")
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


def speed(path: Path, texts: list[str], runtime: str = "onnx") -> dict:
    """Single-comment latency on 1 thread (median of 200) and batch throughput on 2 threads, as
    served (ONNX Runtime), normalising included."""
    score = Scorer(path, threads=1, runtime=runtime).score
    score([LATENCY_TEXT])
    single = []
    for _ in range(200):
        started = time.perf_counter()
        score([LATENCY_TEXT])
        single.append(time.perf_counter() - started)
    score = Scorer(path, threads=2, runtime=runtime).score
    batch = texts[:1000]
    score(batch[:50])
    started = time.perf_counter()
    score(batch)
    return {
        "single_ms_1_thread": statistics.median(single) * 1000,
        "per_s_2_threads": len(batch) / (time.perf_counter() - started),
    }


def rare_labels(probs: np.ndarray, thresholds: dict[str, float], typed) -> dict:
    """threat and identity_hate on the typed Civil Comments test part: ROC-AUC, and the share
    of positives caught at the served threshold."""
    matrix = label_matrix(typed, JIGSAW_LABELS)
    figures = evaluate(probs, matrix.y, matrix.mask, JIGSAW_LABELS, thresholds)
    out = {}
    for label in RARE:
        j = JIGSAW_LABELS.index(label)
        positive = (matrix.mask[:, j] > 0) & (matrix.y[:, j] > 0.5)
        out[label] = {
            "known": int(matrix.mask[:, j].sum()),
            "positives": int(positive.sum()),
            "roc_auc": figures["labels"][label].get("roc_auc"),
            "recall_at_threshold": float((probs[positive, j] >= thresholds[label]).mean()),
        }
    return out


def trust(score, thresholds: dict[str, float], test, typed, test_probs, typed_probs) -> dict:
    """Bias on the templates, robustness on the Jigsaw test part's toxic comments, rare labels."""
    toxic = JIGSAW_LABELS.index("toxic")
    bias = template_bias(lambda texts: score(texts)[:, toxic], thresholds["toxic"])
    toxic_texts = [e.text for e in test if e.labels.get("toxic")]
    robustness = robustness_report(lambda texts: score(texts)[:, toxic], toxic_texts, thresholds["toxic"])
    return {
        "test": test_metrics(test_probs, thresholds, test),
        "rare_labels": rare_labels(typed_probs, thresholds, typed),
        "bias": {
            "final_bias_metric": bias["final_bias_metric"],
            "non_toxic_identity_flag_rate": bias["non_toxic_identity_flag_rate"],
            "min_bpsn_auc": min(t["bpsn_auc"] for t in bias["terms"]),
            "worst_terms": [
                {k: t[k] for k in ("term", "subgroup_auc", "bpsn_auc", "bnsp_auc", "non_toxic_flag_rate")}
                for t in bias["terms"][:5]
            ],
        },
        "robustness": robustness,
    }


def tfidf_variant(examples, test, typed, *, normalised: bool) -> dict:
    """TF-IDF + LR, split and calibrated as beside a model, on raw or on normalised text."""
    config = TrainConfig.for_base({"base_model": "scratch"})
    read = normalise if normalised else (lambda text: text)
    matrix = label_matrix(examples, config.labels)
    train_index, val_index = train_val_split(matrix, config.val_fraction, config.seed)
    texts = [read(e.text) for e in examples]
    started = time.perf_counter()
    model = TfidfModel(config.labels, config.seed).fit([texts[i] for i in train_index], matrix.subset(train_index))
    _, thresholds = tfidf_baseline(
        config,
        [texts[i] for i in train_index],
        matrix.subset(train_index),
        [texts[i] for i in val_index],
        matrix.subset(val_index),
        fitted=model,
    )
    seconds = time.perf_counter() - started
    columns = [config.labels.index(label) for label in JIGSAW_LABELS]

    def score(batch: list[str]) -> np.ndarray:
        return model.predict_proba([read(text) for text in batch])[:, columns]

    served = {label: thresholds[label].threshold for label in JIGSAW_LABELS}
    test_probs, typed_probs = score([e.text for e in test]), score([e.text for e in typed])
    return {"train_s": seconds, **trust(score, served, test, typed, test_probs, typed_probs)}


def model_variant(path: Path, test, typed, *, runtime: str = "onnx") -> dict:
    scorer = Scorer(path, runtime=runtime, threads=2)
    columns = [scorer.labels.index(label) for label in JIGSAW_LABELS]

    def score(batch: list[str]) -> np.ndarray:
        return scorer.score(batch)[:, columns]

    thresholds = json.loads((path / "thresholds.json").read_text())
    metrics = json.loads((path / "metrics.json").read_text())
    test_probs, typed_probs = score([e.text for e in test]), score([e.text for e in typed])
    return {
        "artifact": path.name,
        "runtime": runtime,
        "normaliser": scorer.normaliser,
        "train_s": metrics["timings"]["total_s"],
        "teacher_scoring_s": metrics["timings"].get("teacher_s"),
        "augmentation": metrics.get("augmentation"),
        **trust(score, thresholds, test, typed, test_probs, typed_probs),
        "speed": speed(path, [e.text for e in test], runtime),
    }


def normalising_cost(texts: list[str]) -> dict:
    started = time.perf_counter()
    for text in texts:
        normalise(text)
    seconds = time.perf_counter() - started
    return {
        "comments": len(texts),
        "mean_chars": statistics.mean(map(len, texts)),
        "ms_per_comment": seconds / len(texts) * 1000,
    }


def artifact(name: str, config: dict, examples, *, train_missing: bool) -> Path | None:
    """A cached artifact (`var/starter/<name>`), else trained now into the cache (or None)."""
    if (BUILT / name / "manifest.json").is_file():
        print(f"{name}: reusing {BUILT / name}", file=sys.stderr)
        return BUILT / name
    if not train_missing:
        print(f"{name}: not built (make starter-model, or --train-missing)", file=sys.stderr)
        return None
    print(f"{name}: training (not cached)", file=sys.stderr)
    return run_training(TrainConfig.for_base(config), examples, BUILT, name=name).artifact_path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--train-missing", action="store_true", help="train the teacher and student if not built")
    args = parser.parse_args()
    if not (Path(args.shared) / "jigsaw_toxic_only.csv").is_file():
        print(f"the shared Jigsaw files are not at {args.shared}", file=sys.stderr)
        return 2
    examples = starter_examples(STARTER_CSV)
    test, typed = test_part(args.shared), test_part(args.shared, typed=True)
    print(f"{len(examples)} training comments, {len(test)} + {len(typed)} test comments", file=sys.stderr)
    results = {
        "tfidf_lr": tfidf_variant(examples, test, typed, normalised=False),
        "tfidf_lr_normalised": tfidf_variant(examples, test, typed, normalised=True),
    }
    teacher = artifact("starter-teacher", TEACHER, examples, train_missing=args.train_missing)
    student = artifact(
        "starter", STUDENT | {"teacher": str(teacher)}, examples, train_missing=args.train_missing and bool(teacher)
    )
    variants = {"previous_starter": (PREVIOUS, "onnx")}
    if teacher:
        variants |= {"minilm_teacher": (teacher, "onnx"), "minilm_teacher_int8": (teacher, "onnx-int8")}
    if student:
        variants |= {"starter": (student, "onnx"), "starter_int8": (student, "onnx-int8")}
    for name, (path, runtime) in variants.items():
        if (path / "manifest.json").is_file():
            results[name] = model_variant(path, test, typed, runtime=runtime)
            print(name, f"macro AUC {results[name]['test']['macro_auc']:.4f}", file=sys.stderr)

    print(
        f"\n{'variant':<22}{'macro AUC':>10}{'macro-F1':>9}{'threat':>8}{'id_hate':>8}{'bias':>7}"
        f"{'id flag':>8}{'worst dis':>10}{'train s':>8}{'1 ms':>7}{'/s (2t)':>8}"
    )
    for name, result in results.items():
        t, s, rare = result["test"], result.get("speed", {}), result["rare_labels"]
        print(
            f"{name:<22}{t['macro_auc']:>10.4f}{t['macro_f1']:>9.4f}{rare['threat']['roc_auc']:>8.3f}"
            f"{rare['identity_hate']['roc_auc']:>8.3f}{result['bias']['final_bias_metric']:>7.3f}"
            f"{result['bias']['non_toxic_identity_flag_rate']:>8.3f}{result['robustness'].get('worst', 0):>10.3f}"
            f"{result.get('train_s') or 0:>8.0f}{s.get('single_ms_1_thread', 0):>7.2f}"
            f"{s.get('per_s_2_threads', 0):>8.0f}"
        )
    write_result(
        "quality_jigsaw",
        {
            "training_rows": len(examples),
            "test_rows": len(test),
            "typed_test_rows": len(typed),
            "test_positives": {
                label: results["tfidf_lr"]["test"]["labels"][label]["positives"] for label in JIGSAW_LABELS
            },
            "normalising": normalising_cost([e.text for e in test]),
            "results": results,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
