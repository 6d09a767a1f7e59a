"""How the language detector (training/languages.py) does on real comments of known language:
Jigsaw (English Wikipedia talk pages), OLID (English tweets) and GermEval 2018 (German tweets),
by length, at several confidence bars. What matters: how many it leaves undetected (they are
routed as usual), and how many it takes for another language (an English comment sent to
people as foreign). Also its cost per comment.

Usage: python bench/languages.py [--shared ../shared/data]
"""

import argparse
import csv
import sys
import time
from pathlib import Path

from common import REPO, write_result

from training.languages import classify

BARS = (0.8, 0.9, 0.95)
LENGTHS = {"1-3 words": (1, 3), "4-8 words": (4, 8), "any length": (1, 10**9)}
PER_SET = 3000


def texts(shared: Path) -> dict[str, tuple[str, list[str]]]:
    with open(shared / "jigsaw_toxic_only.csv", newline="", encoding="utf-8") as handle:
        jigsaw = [row["comment_text"] for row in csv.DictReader(handle)]
    olid = [line.split("\t")[1] for line in (shared / "olid_train.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    germeval = [
        line.split("\t")[0] for line in (shared / "germeval2018_train.tsv").read_text(encoding="utf-8").splitlines()
    ]
    return {"jigsaw": ("en", jigsaw), "olid": ("en", olid), "germeval": ("de", germeval)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", default=str(REPO.parent / "shared" / "data"))
    args = parser.parse_args()
    shared = Path(args.shared)
    if not (shared / "germeval2018_train.tsv").is_file():
        print(f"the shared files are not at {shared}", file=sys.stderr)
        return 2
    results: dict = {}
    for name, (language, rows) in texts(shared).items():
        for length, (low, high) in LENGTHS.items():
            chosen = [text for text in rows if low <= len(text.split()) <= high][:PER_SET]
            if not chosen:
                continue
            started = time.perf_counter()
            found = [classify(text) for text in chosen]
            seconds = time.perf_counter() - started
            cell = {"comments": len(chosen), "ms_per_comment": round(seconds / len(chosen) * 1000, 4)}
            for bar in BARS:
                confident = [code for code, probability in found if probability >= bar]
                cell[f"detected_at_{bar}"] = round(len(confident) / len(chosen), 3)
                cell[f"wrong_at_{bar}"] = round(sum(code != language for code in confident) / len(chosen), 4)
            results.setdefault(name, {})[length] = cell
            print(
                f"{name:9} {length:11} n={len(chosen):5}  "
                + "  ".join(
                    f"@{bar}: detected {cell[f'detected_at_{bar}']:.2f} wrong {cell[f'wrong_at_{bar}']:.4f}"
                    for bar in BARS
                )
            )
    write_result("languages", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
