"""Do the work page's highlighted words mark what a person marks? SemEval-2021 Task 5's
character F1 (the mean over posts of the F1 of the marked character offsets; a post where
both mark nothing scores 1) against the annotators' spans of the 690 Civil Comments posts in
`toxic_spans_trial.csv`, which no choice here was made on (the task's best system: 0.708).
Three ways, side by side:
- occlusion: the shipped starter model's driving words for `toxic` (Scorer.driving_words);
- the span tagger (training/span_tagger.py, learnt from `toxic_spans_train.csv`) alone;
- served: the tagger's words, else the model's (moderation/selectors/explanations.py).
Also the served way's cost per post on one thread.

Usage: python bench/spans.py [--shared ../shared/data] [--artifact DIR] [--tagger DIR]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

from common import REPO, write_result

from training.inference import MAX_OCCLUDED_WORDS, WORD, Scorer
from training.span_tagger import SpanTagger, character_f1, offsets, read_posts

STARTER = REPO / "moderation" / "fixtures" / "starter" / "model"
TAGGER = REPO / "moderation" / "fixtures" / "spans"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--artifact", default=str(STARTER))
    parser.add_argument("--tagger", default=str(TAGGER))
    args = parser.parse_args()
    path = Path(args.shared) / "toxic_spans_trial.csv"
    if not path.is_file():
        print(f"{path} is absent", file=sys.stderr)
        return 2
    posts = read_posts(path)
    scorer = Scorer(Path(args.artifact), runtime="onnx", threads=1)
    tagger = SpanTagger.load(args.tagger)
    scorer.driving_words(posts[0][0], "toxic"), tagger.spans(posts[0][0])  # loaded, warm
    scores: dict[str, list[float]] = {"occlusion": [], "tagger": [], "served": []}
    short: dict[str, list[float]] = {name: [] for name in scores}
    costs = []
    for text, gold in posts:
        started = time.perf_counter()
        tagged = tagger.spans(text)
        tagging_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        occluded = scorer.driving_words(text, "toxic")
        occlusion_ms = (time.perf_counter() - started) * 1000
        # Served: the tagger's words, and the model's only where it marks none.
        costs.append(tagging_ms + (0.0 if tagged else occlusion_ms))
        found = {"occlusion": occluded, "tagger": tagged, "served": tagged or occluded}
        for name, spans in found.items():
            scores[name].append(character_f1(offsets(spans), gold))
            if len(WORD.findall(text)) <= MAX_OCCLUDED_WORDS:
                short[name].append(scores[name][-1])
    costs.sort()
    result = {
        "posts": len(posts),
        "char_f1": {name: round(statistics.mean(values), 4) for name, values in scores.items()},
        "posts_of_at_most_max_words": len(short["served"]),
        "char_f1_posts_of_at_most_max_words": {name: round(statistics.mean(v), 4) for name, v in short.items()},
        "max_words": MAX_OCCLUDED_WORDS,
        "served_ms_p50": round(costs[len(costs) // 2], 2),
        "served_ms_p95": round(costs[int(len(costs) * 0.95)], 2),
        "artifact": Path(args.artifact).name,
        "tagger": tagger.record,
    }
    print(result)
    write_result("spans", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
