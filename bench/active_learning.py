"""Which comments should people label next? At a fixed budget, the learning curves of three ways
of choosing them, on the real shared Jigsaw comments (the `toxic` label):

- random;
- the highest scores (what moderators see today: the most toxic-looking first);
- the uncertain rule of a "teach the model" queue: the scores nearest the model's threshold, with
  a seeded random fifth so that the estimates stay unbiased.

From a random seed of 1,000 labelled comments, each round adds 250 labels chosen by the rule from
the unlabelled pool (the non-test rows, their labels hidden until chosen), retrains the fast
model (TF-IDF + logistic regression) and scores the fixed test part (training/starter.py's,
which nothing here chooses on). Three seeds; the mean curve. Reported: each rule's final ROC-AUC,
and how many labels the uncertain rule needs to reach random's final ROC-AUC.

Usage: python bench/active_learning.py [--shared ../shared/data] [--rounds 16]
"""

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
from common import REPO, write_result
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score

from training.starter import SIX_LABEL_FILES, TOXIC_ONLY_FILE, in_test_part

SEED_SIZE, ROUND = 1000, 250
RANDOM_SHARE = 0.2  # of each uncertain round: keeps the estimates unbiased
SEEDS = (1, 2, 3)
PLOT = REPO / "docs" / "active_learning.svg"


def rows(shared: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Every shared Jigsaw comment whose toxic label is known: texts, labels, and which are in
    the fixed test part."""
    texts, labels, test, seen = [], [], [], set()
    for name in (*SIX_LABEL_FILES, TOXIC_ONLY_FILE):
        with open(shared / name, newline="", encoding="utf-8") as handle:
            for record in csv.DictReader(handle):
                if record["comment_text"] in seen or record.get("toxic") not in ("0", "1"):
                    continue
                seen.add(record["comment_text"])
                texts.append(record["comment_text"])
                labels.append(int(record["toxic"]))
                test.append(in_test_part(record["id"]))
    return texts, np.array(labels), np.array(test)


def fit(features, labels):
    return LogisticRegression(C=4.0, class_weight="balanced", max_iter=2000).fit(features, labels)


def best_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    """The score at which F1 on the labelled rows is best: where the model decides."""
    candidates = np.quantile(scores, np.linspace(0.5, 0.99, 50))
    return float(max(candidates, key=lambda t: f1_score(labels, scores >= t, zero_division=0)))


def choose(rule: str, scores: np.ndarray, pool: np.ndarray, threshold: float, rng) -> np.ndarray:
    """`ROUND` indexes of `pool` (unlabelled rows) by `rule`."""
    if rule == "random":
        return rng.choice(pool, ROUND, replace=False)
    if rule == "highest":
        return pool[np.argsort(-scores[pool])[:ROUND]]
    randoms = int(ROUND * RANDOM_SHARE)
    nearest = pool[np.argsort(np.abs(scores[pool] - threshold))[: ROUND - randoms]]
    rest = np.setdiff1d(pool, nearest)
    return np.concatenate([nearest, rng.choice(rest, randoms, replace=False)])


def curve(rule: str, seed: int, features, labels, train: np.ndarray, test: np.ndarray, rounds: int) -> list[float]:
    rng = np.random.default_rng(seed)
    labelled = rng.choice(train, SEED_SIZE, replace=False)
    aucs = []
    for round_ in range(rounds + 1):
        model = fit(features[labelled], labels[labelled])
        aucs.append(float(roc_auc_score(labels[test], model.predict_proba(features[test])[:, 1])))
        if round_ == rounds:
            break
        pool = np.setdiff1d(train, labelled)
        scores = np.zeros(len(labels))
        scores[pool] = model.predict_proba(features[pool])[:, 1]
        threshold = best_threshold(model.predict_proba(features[labelled])[:, 1], labels[labelled])
        labelled = np.concatenate([labelled, choose(rule, scores, pool, threshold, rng)])
    return aucs


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--rounds", type=int, default=16)
    args = parser.parse_args()
    shared = Path(args.shared)
    if not (shared / TOXIC_ONLY_FILE).is_file():
        print(f"the shared Jigsaw files are not at {shared}", file=sys.stderr)
        return 2
    texts, labels, in_test = rows(shared)
    train, test = np.flatnonzero(~in_test), np.flatnonzero(in_test)
    # The vocabulary from every text (no label is read): what a deployment's unlabelled comments give.
    features = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=200_000).fit_transform(
        texts
    )
    sizes = [SEED_SIZE + ROUND * r for r in range(args.rounds + 1)]
    curves = {
        rule: np.mean([curve(rule, seed, features, labels, train, test, args.rounds) for seed in SEEDS], axis=0)
        for rule in ("random", "highest", "uncertain")
    }
    target = curves["random"][-1]
    reached = next((size for size, auc in zip(sizes, curves["uncertain"], strict=True) if auc >= target), None)
    result = {
        "pool": len(train),
        "test": len(test),
        "test_positives": int(labels[test].sum()),
        "labels": sizes,
        "roc_auc": {rule: [round(float(v), 4) for v in values] for rule, values in curves.items()},
        "random_final_auc": round(float(target), 4),
        "uncertain_labels_to_random_final": reached,
        "uncertain_share_of_random_labels": round(reached / sizes[-1], 3) if reached else None,
        "seeds": list(SEEDS),
    }
    for rule, values in curves.items():
        print(f"{rule:10}", " ".join(f"{v:.4f}" for v in values))
    print(f"uncertain reaches random's final ROC-AUC {target:.4f} with {reached} labels (random: {sizes[-1]})")
    _plot(sizes, curves)
    write_result("active_learning", result)
    return 0


def _plot(sizes: list[int], curves: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6.4, 3.6))
    for rule, values in curves.items():
        axes.plot(sizes, values, marker="o", markersize=3, label=rule)
    axes.set_xlabel("labelled comments")
    axes.set_ylabel("toxic ROC-AUC, fixed test part")
    axes.set_title("Which comments to label next (TF-IDF + LR, 3 seeds)")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(PLOT, metadata={"Date": None})
    print(f"wrote {PLOT.relative_to(REPO)}")


if __name__ == "__main__":
    sys.exit(main())
