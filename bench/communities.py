"""Two other communities, each read in its own layout through the importer's mapping
(moderation/importing.py): English tweets (OLID; tests and benchmarks only, never shipped) and
German tweets (GermEval 2018). Each is split once into a fixed test part (a hash of the text:
no model, threshold or setting sees it) and the rest, on which:

- the platform's trainer learns (by default `scratch`: a WordPiece vocabulary from the
  community's own text, the BERT-tiny shape, default settings, the TF-IDF blend: what a retrain
  with this base gives; `--base-model minilm`: the pretrained English MiniLM, its preset);
- TF-IDF + logistic regression learns from the same rows (the floor);
- the shipped English starter model scores the test part as it is.

Reported: toxic ROC-AUC on the test part, and F1 at each model's own threshold.
Usage: python bench/communities.py [--max-epochs N] [--base-model NAME] [--only NAME]
(a base other than `scratch` writes bench/results/communities_<base>.json)
"""

import argparse
import hashlib
import sys
import tempfile
import time

import numpy as np
from common import REPO, write_result
from sklearn.metrics import f1_score, roc_auc_score

from moderation.importing import ColumnMapping, LabelRule, ParsedRow, read_mapped
from training import DEFAULT_LABELS
from training.config import TrainConfig
from training.data import Example, label_matrix
from training.inference import Scorer
from training.pipeline import run_training
from training.tfidf import TfidfModel

SHARED = REPO.parent / "shared" / "data"
COMMUNITIES = {
    "olid_en": (
        "olid_train.tsv",
        ColumnMapping(text="tweet", id="id", labels=(LabelRule.parse("toxic=subtask_a:OFF/NOT"),), language="en"),
        True,
    ),
    "germeval2018_de": (
        "germeval2018_train.tsv",
        ColumnMapping(text="1", labels=(LabelRule.parse("toxic=2:OFFENSE/OTHER"),), language="de"),
        False,
    ),
}
TEST_SHARE = 0.2


def in_test_part(text: str) -> bool:
    digest = hashlib.sha256(f"toxiscope-community-test:{text}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < TEST_SHARE


def read(file: str, mapping: ColumnMapping, header: bool) -> list[Example]:
    with open(SHARED / file, encoding="utf-8", newline="") as stream:
        rows = read_mapped(
            stream, mapping=mapping, file_format="tsv", header=header, known_labels=DEFAULT_LABELS, max_chars=20_000
        )
        return [Example(row.text, row.labels) for row in rows if isinstance(row, ParsedRow)]


def figures(scores: np.ndarray, truth: np.ndarray, threshold: float) -> dict:
    return {
        "roc_auc": float(roc_auc_score(truth, scores)),
        "f1": float(f1_score(truth, scores >= threshold)),
        "threshold": float(threshold),
    }


def community(
    name: str, file: str, mapping: ColumnMapping, header: bool, max_epochs: int | None, base_model: str
) -> dict:
    examples = read(file, mapping, header)
    train = [e for e in examples if not in_test_part(e.text)]
    test = [e for e in examples if in_test_part(e.text)]
    texts, truth = [e.text for e in test], np.array([e.labels["toxic"] for e in test])
    result = {"rows": len(examples), "train": len(train), "test": len(test), "test_positives": int(truth.sum())}

    values = {"base_model": base_model, **({"max_epochs": max_epochs} if max_epochs else {})}
    config = TrainConfig.for_base(values)
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        outcome = run_training(config, train, out, name=name)
        scorer = Scorer(outcome.artifact_path, threads=2)
        j = scorer.labels.index("toxic")
        result["platform"] = {
            **figures(scorer.score(texts)[:, j], truth, outcome.thresholds["toxic"]),
            "train_s": round(time.perf_counter() - started, 1),
            "validation_toxic_auc": outcome.metrics["model"]["calibrated"]["labels"]["toxic"].get("roc_auc"),
        }

    tfidf = TfidfModel(("toxic",), config.seed).fit([e.text for e in train], label_matrix(train, ("toxic",)))
    result["tfidf_lr"] = figures(tfidf.predict_proba(texts)[:, 0], truth, 0.5)

    starter = Scorer(REPO / "moderation" / "fixtures" / "starter" / "model", threads=2)
    j = starter.labels.index("toxic")
    result["english_starter"] = figures(starter.score(texts)[:, j], truth, starter.artifact.thresholds()["toxic"])
    result["platform_minus_tfidf_auc"] = result["platform"]["roc_auc"] - result["tfidf_lr"]["roc_auc"]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-epochs", type=int, help="default: the trainer's own")
    parser.add_argument("--base-model", default="scratch", help="the platform's base model (default: scratch)")
    parser.add_argument("--only", choices=sorted(COMMUNITIES), help="one community only")
    args = parser.parse_args()
    if not SHARED.is_dir():
        print(f"no shared data at {SHARED}", file=sys.stderr)
        return 2
    results = {}
    for name, (file, mapping, header) in COMMUNITIES.items():
        if args.only and name != args.only:
            continue
        results[name] = community(name, file, mapping, header, args.max_epochs, args.base_model)
        r = results[name]
        print(
            f"{name}: {r['train']} train / {r['test']} test ({r['test_positives']} offensive); toxic ROC-AUC "
            f"platform {r['platform']['roc_auc']:.3f}, TF-IDF + LR {r['tfidf_lr']['roc_auc']:.3f}, "
            f"English starter {r['english_starter']['roc_auc']:.3f} (platform − TF-IDF "
            f"{r['platform_minus_tfidf_auc']:+.3f}; {r['platform']['train_s']:.0f} s to train)"
        )
    base = "".join(c if c.isalnum() else "_" for c in args.base_model)
    name = "communities" if args.base_model == "scratch" else f"communities_{base}"
    write_result(name, {"base_model": args.base_model, **results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
