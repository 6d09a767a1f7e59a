"""Do the work page's driving words mark what a person marks? SemEval-2021 Task 5's character
F1 (the mean over posts of the F1 of the marked character offsets; a post where both mark
nothing scores 1) of the shipped starter model's driving words (training/inference.py,
Scorer.driving_words, for `toxic`) against the annotators' spans of the Civil Comments posts
in `toxic_spans_trial.csv`, which no choice here was made on. The task's best system scored
0.708. Also each post's cost on one thread.

Usage: python bench/spans.py [--shared ../shared/data] [--artifact DIR]
"""

import argparse
import csv
import json
import statistics
import sys
import time
from pathlib import Path

from common import REPO, write_result

from training.inference import MAX_OCCLUDED_WORDS, WORD, Scorer

STARTER = REPO / "moderation" / "fixtures" / "starter" / "model"


def character_f1(predicted: set[int], gold: set[int]) -> float:
    if not gold and not predicted:
        return 1.0
    if not gold or not predicted:
        return 0.0
    overlap = len(predicted & gold)
    if not overlap:
        return 0.0
    precision, recall = overlap / len(predicted), overlap / len(gold)
    return 2 * precision * recall / (precision + recall)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--artifact", default=str(STARTER))
    args = parser.parse_args()
    path = Path(args.shared) / "toxic_spans_trial.csv"
    if not path.is_file():
        print(f"{path} is absent", file=sys.stderr)
        return 2
    with open(path, newline="", encoding="utf-8") as handle:
        posts = [(row["text"], set(json.loads(row["spans"]))) for row in csv.DictReader(handle)]
    scorer = Scorer(Path(args.artifact), runtime="onnx")
    scorer.driving_words(posts[0][0], "toxic")  # loaded, warm
    scores, short_scores, costs = [], [], []
    for text, gold in posts:
        started = time.perf_counter()
        spans = scorer.driving_words(text, "toxic")
        costs.append((time.perf_counter() - started) * 1000)
        predicted = {offset for start, end in spans for offset in range(start, end)}
        scores.append(character_f1(predicted, gold))
        if len(WORD.findall(text)) <= MAX_OCCLUDED_WORDS:
            short_scores.append(scores[-1])
    costs.sort()
    result = {
        "posts": len(posts),
        "char_f1": round(statistics.mean(scores), 4),
        "posts_of_at_most_max_words": len(short_scores),
        "char_f1_posts_of_at_most_max_words": round(statistics.mean(short_scores), 4),
        "max_words": MAX_OCCLUDED_WORDS,
        "ms_p50": round(costs[len(costs) // 2], 2),
        "ms_p95": round(costs[int(len(costs) * 0.95)], 2),
        "artifact": Path(args.artifact).name,
    }
    print(json.dumps(result, indent=1))
    write_result("spans", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
