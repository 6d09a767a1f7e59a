"""python -m training --data PATH.csv --base-model scratch|minilm|<hub id>|<dir> --out DIR [--any-setting VALUE]"""

import argparse
import json
import sys

from training.artifacts import ArtifactError
from training.base_models import BaseModelError
from training.config import ConfigError, TrainConfig, add_config_arguments, config_overrides
from training.data import DataError, read_csv_examples
from training.progress import progress_bar
from training.report import results_table


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    parser.add_argument("--data", required=True, help="CSV in the Jigsaw layout (comment_text + label columns)")
    parser.add_argument("--out", required=True, help="directory the artifact directory is created in")
    parser.add_argument("--name", help="artifact directory name (default: timestamp + data hash)")
    parser.add_argument(
        "--transfer", help="CSV of more comment texts (comment_text or text column) for a --teacher to score"
    )
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON instead of the table")
    add_config_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        config = TrainConfig.for_base(config_overrides(args))
        examples = read_csv_examples(args.data, config.labels)
        transfer = [example.text for example in read_csv_examples(args.transfer, ())] if args.transfer else []
    except ConfigError as exc:
        print(f"error: invalid settings: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"error: cannot read the data: {exc}", file=sys.stderr)
        return 2

    # torch and transformers load only now: a mistyped setting or file is answered at once.
    from training.pipeline import run_training

    bar, show = progress_bar()

    try:
        outcome = run_training(config, examples, args.out, transfer_texts=transfer, name=args.name, on_progress=show)
    except (ArtifactError, BaseModelError, DataError) as exc:
        bar.close()
        print(f"error: {exc}", file=sys.stderr)
        return 1
    bar.close()
    if args.json:
        print(json.dumps(outcome.metrics, indent=2))
    else:
        print(results_table(outcome.metrics))
        timings = outcome.metrics["timings"]
        print(
            f"\n{len(examples)} comments ({outcome.train_size} train / {outcome.val_size} val), "
            f"base {config.base_model}, {timings['total_s']:.1f} s"
        )
        print(f"artifact: {outcome.artifact_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
