"""The one configuration of a training run. Frozen: a run's config is a fact, not a variable."""

import argparse
import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from training import DEFAULT_LABELS
from training.normalise import VERSION as NORMALISER_VERSION
from training.normalise import VERSIONS as NORMALISER_VERSIONS

REFERENCE_BASE_MODEL = "prajjwal1/bert-tiny"


class ConfigError(ValueError):
    """Invalid configuration; `errors` maps each field to its message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))


def _option(default: Any, help: str) -> Any:
    """A setting with the sentence every front end (CLI, command, form) shows for it."""
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class TrainConfig:
    base_model: str = _option(
        REFERENCE_BASE_MODEL,
        "scratch (BERT-tiny shape, vocabulary from your data), minilm (packaged, pretrained), "
        "minilm-tiny (BERT-tiny shape, MiniLM's vocabulary and embeddings), "
        "a hub id such as prajjwal1/bert-tiny (needs internet), or a local model directory",
    )
    labels: tuple[str, ...] = _option(DEFAULT_LABELS, "labels to learn (comma-separated)")
    max_len: int = _option(128, "tokens read per comment (at most 512)")
    batch_size: int = _option(16, "comments per training step")
    lr: float = _option(5e-4, "peak learning rate (AdamW)")
    weight_decay: float = _option(0.01, "AdamW weight decay")
    warmup_ratio: float = _option(0.1, "share of the steps spent warming the learning rate up")
    max_epochs: int = _option(10, "maximum epochs (early stopping decides)")
    patience: int = _option(2, "epochs without improvement before stopping")
    # Macro-F1 on a small validation split swings with a handful of rows; AUC and loss do not.
    selection: Literal["val_macro_auc", "val_loss", "val_macro_f1"] = _option(
        "val_macro_auc", "the validation figure that picks the best epoch"
    )
    focal_gamma: float = _option(2.0, "focal loss focusing parameter γ")
    focal_alpha: float = _option(0.25, "focal loss weight α of the positive class")
    dropout: float = _option(0.1, "dropout before the classification head")
    grad_clip: float = _option(1.0, "gradient norm clip")
    seed: int = _option(13, "random seed: the same seed and data give the same model")
    val_fraction: float = _option(0.2, "share of the labelled comments held out for validation")
    # "oof" sees every positive once and picks steadier thresholds for rare labels.
    calibration: Literal["holdout", "oof"] = _option(
        "holdout", "thresholds from the validation split (holdout) or out-of-fold predictions (oof)"
    )
    calibration_folds: int = _option(5, "folds for out-of-fold calibration")
    # A label with few positives would otherwise get a near-zero threshold that flags everything.
    threshold_floor: float = _option(0.05, "lowest threshold calibration may choose")
    min_calibration_positives: int = _option(3, "fewer validation positives than this: the label keeps 0.5")
    bucket_batches: int = _option(50, "batches sorted by length together (dynamic padding)")
    vocab_size: int = _option(8000, "scratch base: WordPiece vocabulary size")
    vocab_min_frequency: int = _option(2, "scratch base: least frequency of a vocabulary entry")
    scratch_layers: int = _option(2, "scratch and minilm-tiny bases: transformer layers")
    scratch_hidden: int = _option(128, "scratch and minilm-tiny bases: hidden size")
    scratch_heads: int = _option(2, "scratch and minilm-tiny bases: attention heads")
    scratch_intermediate: int = _option(512, "scratch and minilm-tiny bases: feed-forward size")
    # Distillation (training/distillation.py).
    teacher: str = _option(
        "", "a trained model to distil from: its artifact directory here, its version name in the platform"
    )
    distill_weight: float = _option(0.5, "the teacher's share of a known label's target (the rest: the true label)")
    num_threads: int = _option(0, "CPU threads (0: all cores)")
    device: str = _option("cpu", "cpu, cuda, ...")
    baseline: bool = _option(True, "also report the TF-IDF + logistic regression baseline for comparison")
    # A bag of words sees what a small transformer misses in long or odd text, and costs little
    # to score: together they rank better than either (bench/quality.py).
    tfidf_blend: float = _option(0.5, "the TF-IDF + logistic regression model's share of the served score (0: none)")
    # Disguises ("f.u.c.k", "1d10t", look-alike letters) are undone before a model reads a text.
    normaliser: int = _option(NORMALISER_VERSION, "text normaliser version the models read through (0: none)")
    augment: bool = _option(
        True, "add disguised toxic copies, identity-swapped copies and template sentences to the training rows"
    )

    def __post_init__(self) -> None:
        errors = self.validation_errors()
        if errors:
            raise ConfigError(errors)

    def validation_errors(self) -> dict[str, str]:
        errors = {}
        positive = [
            "max_len",
            "batch_size",
            "max_epochs",
            "patience",
            "calibration_folds",
            "bucket_batches",
            "vocab_size",
            "vocab_min_frequency",
            "scratch_layers",
            "scratch_hidden",
            "scratch_heads",
            "scratch_intermediate",
        ]
        for name in positive:
            if getattr(self, name) < 1:
                errors[name] = "must be at least 1"
        if not 0 < self.lr < 1:
            errors["lr"] = "must be in (0, 1)"
        for name in ("warmup_ratio", "dropout", "threshold_floor"):
            if not 0 <= getattr(self, name) < 1:
                errors[name] = "must be in [0, 1)"
        if not 0 < self.val_fraction < 0.5:
            errors["val_fraction"] = "must be in (0, 0.5)"
        if not 0 <= self.focal_alpha <= 1:
            errors["focal_alpha"] = "must be in [0, 1]"
        if self.focal_gamma < 0:
            errors["focal_gamma"] = "must not be negative"
        for spec in dataclasses.fields(self):
            choices = get_args(spec.type) if get_origin(spec.type) is Literal else None
            if choices and getattr(self, spec.name) not in choices:
                errors[spec.name] = f"must be one of {', '.join(map(repr, choices))}"
        if not 0 <= self.distill_weight <= 1:
            errors["distill_weight"] = "must be in [0, 1]"
        if not 0 <= self.tfidf_blend < 1:
            errors["tfidf_blend"] = "must be in [0, 1)"
        elif self.tfidf_blend and self.calibration == "oof":
            errors["tfidf_blend"] = "must be 0 with out-of-fold calibration (the folds have no TF-IDF part)"
        if self.teacher and self.calibration == "oof":
            errors["calibration"] = "must be 'holdout' with a teacher (out-of-fold folds would see soft targets)"
        if self.calibration == "oof" and self.calibration_folds < 2:
            errors["calibration_folds"] = "must be at least 2 for out-of-fold calibration"
        if not self.labels or len(set(self.labels)) != len(self.labels):
            errors["labels"] = "must be a non-empty list of distinct names"
        if self.max_len > 512:
            errors["max_len"] = "must be at most 512"
        if self.scratch_heads >= 1 and self.scratch_hidden % self.scratch_heads:
            errors["scratch_heads"] = "must divide scratch_hidden"
        if self.normaliser not in NORMALISER_VERSIONS:
            errors["normaliser"] = f"must be one of {', '.join(map(str, NORMALISER_VERSIONS))}"
        if not self.base_model.strip():
            errors["base_model"] = "must not be empty"
        return errors

    @classmethod
    def for_base(cls, values: dict[str, Any]) -> "TrainConfig":
        """`values` over the preset of their base model (see `preset_for`) over the defaults."""
        return cls.from_mapping({**preset_for(values.get("base_model", REFERENCE_BASE_MODEL)), **values})

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> "TrainConfig":
        """Build from JSON-like values (a form, a task payload), with a message per bad field."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        errors = {name: "unknown setting" for name in values if name not in fields}
        kwargs = {}
        for name, value in values.items():
            if name not in fields:
                continue
            try:
                kwargs[name] = _coerce(value, fields[name].type)
            except (TypeError, ValueError) as exc:
                errors[name] = str(exc)
        try:
            config = cls(**kwargs)
        except ConfigError as exc:
            errors.update(exc.errors)
        if errors:
            raise ConfigError(errors)
        return config

    def to_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["labels"] = list(self.labels)
        return values

    def replace(self, **changes: Any) -> "TrainConfig":
        return dataclasses.replace(self, **changes)


# Pretrained encoders (minilm, other hub or local models) lose what they know at BERT-tiny's lr
# of 5e-4: MiniLM's validation macro-F1 fell 0.53 -> 0.36 -> 0.30 over three epochs there. At
# 1e-4 it ranks best after 2-3 epochs (measured with bench/quality.py's MiniLM teacher).
PRETRAINED_PRESET = {"lr": 1e-4, "max_epochs": 3, "patience": 1}
# Hidden sizes up to this are BERT-tiny-shaped: they keep the seed's values (the defaults).
TINY_HIDDEN = 256


def preset_for(base_model: str) -> dict[str, Any]:
    """The settings that suit `base_model`: none beyond the defaults (the seed's values) for
    BERT-tiny-shaped models, PRETRAINED_PRESET for larger pretrained encoders."""
    if base_model in ("scratch", "minilm-tiny") or "bert-tiny" in base_model.lower():
        return {}
    config = Path(base_model).expanduser() / "config.json"
    if config.is_file():
        try:
            if json.loads(config.read_text()).get("hidden_size", TINY_HIDDEN + 1) <= TINY_HIDDEN:
                return {}
        except (OSError, ValueError):
            pass  # the loader reports an unreadable model directory
    return dict(PRETRAINED_PRESET)


def add_config_arguments(parser: argparse.ArgumentParser, *, exclude: tuple[str, ...] = ()) -> None:
    """One command-line option per setting, named after it (`--max-len`), with its help and
    default. An option left out is not in the namespace (see `config_overrides`)."""
    defaults = TrainConfig()
    for spec in dataclasses.fields(TrainConfig):
        if spec.name in exclude:
            continue
        flags = [f"--{spec.name.replace('_', '-')}"]
        default = getattr(defaults, spec.name)
        shown = ",".join(default) if isinstance(default, tuple) else default
        options: dict[str, Any] = {
            "dest": spec.name,
            "default": argparse.SUPPRESS,
            "help": f"{spec.metadata['help']} ({shown})",
        }
        if spec.type is bool:
            options["action"] = argparse.BooleanOptionalAction
        elif get_origin(spec.type) is Literal:
            options["choices"] = get_args(spec.type)
        elif get_origin(spec.type) is tuple:
            options["type"] = lambda text: [part.strip() for part in text.split(",") if part.strip()]
        else:
            options["type"] = spec.type
        parser.add_argument(*flags, **options)


def config_overrides(namespace: argparse.Namespace) -> dict[str, Any]:
    """The settings given on the command line, for `TrainConfig.from_mapping`."""
    names = {spec.name for spec in dataclasses.fields(TrainConfig)}
    return {name: value for name, value in vars(namespace).items() if name in names}


SCALARS: dict[Any, tuple[Any, str]] = {
    bool: (bool, "must be true or false"),
    int: (int, "must be an integer"),
    float: (int | float, "must be a number"),
    str: (str, "must be a string"),
}


def _coerce(value: Any, annotation: Any) -> Any:
    if get_origin(annotation) is Literal:
        if value not in get_args(annotation):
            raise ValueError(f"must be one of {', '.join(map(repr, get_args(annotation)))}")
        return value
    if get_origin(annotation) is tuple:
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise TypeError("must be a list of strings")
        return tuple(value)
    if annotation in SCALARS:
        accepted, message = SCALARS[annotation]
        # True is an int to Python, not to a config file.
        if not isinstance(value, accepted) or (isinstance(value, bool) and annotation is not bool):
            raise TypeError(message)
        return float(value) if annotation is float else value
    raise TypeError(f"unsupported setting type {annotation}")


__all__ = [
    "REFERENCE_BASE_MODEL",
    "ConfigError",
    "TrainConfig",
    "add_config_arguments",
    "config_overrides",
    "preset_for",
]
