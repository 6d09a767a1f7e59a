"""The one configuration of a training run. Frozen: a run's config is a fact, not a variable."""

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

from training import DEFAULT_LABELS

REFERENCE_BASE_MODEL = "prajjwal1/bert-tiny"


class ConfigError(ValueError):
    """Invalid configuration; `errors` maps each field to its message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))


@dataclass(frozen=True)
class TrainConfig:
    # What to start from: a hub id, a local directory, "minilm" or "scratch".
    base_model: str = REFERENCE_BASE_MODEL
    labels: tuple[str, ...] = DEFAULT_LABELS
    max_len: int = 128
    batch_size: int = 16
    lr: float = 5e-4
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_epochs: int = 10
    # Early stopping on validation macro-F1: stop after this many epochs without improvement.
    patience: int = 2
    focal_gamma: float = 2.0
    focal_alpha: float = 0.25
    dropout: float = 0.1
    grad_clip: float = 1.0
    seed: int = 13
    val_fraction: float = 0.2
    # "holdout": thresholds from the validation split. "oof": from out-of-fold predictions over
    # the training split (k extra models), which sees every positive once and picks steadier
    # thresholds for rare labels.
    calibration: Literal["holdout", "oof"] = "holdout"
    calibration_folds: int = 5
    # Thresholds never go below this: a label with few positives would otherwise get a
    # near-zero threshold that flags everything.
    threshold_floor: float = 0.05
    # With fewer validation positives than this, a label keeps the 0.5 default.
    min_calibration_positives: int = 3
    # Batches are formed from windows of this many batches sorted by length (dynamic padding).
    bucket_batches: int = 50
    # `scratch` base: the BERT-tiny shape and its corpus-trained WordPiece vocabulary.
    vocab_size: int = 8000
    vocab_min_frequency: int = 2
    scratch_layers: int = 2
    scratch_hidden: int = 128
    scratch_heads: int = 2
    scratch_intermediate: int = 512
    # 0 = all cores.
    num_threads: int = 0
    device: str = "cpu"
    baseline: bool = True

    def __post_init__(self):
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
        if self.calibration not in ("holdout", "oof"):
            errors["calibration"] = "must be 'holdout' or 'oof'"
        elif self.calibration == "oof" and self.calibration_folds < 2:
            errors["calibration_folds"] = "must be at least 2 for out-of-fold calibration"
        if not self.labels or len(set(self.labels)) != len(self.labels):
            errors["labels"] = "must be a non-empty list of distinct names"
        if self.max_len > 512:
            errors["max_len"] = "must be at most 512"
        if self.scratch_heads >= 1 and self.scratch_hidden % self.scratch_heads:
            errors["scratch_heads"] = "must divide scratch_hidden"
        if not self.base_model.strip():
            errors["base_model"] = "must not be empty"
        return errors

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

    def replace(self, **changes) -> "TrainConfig":
        return dataclasses.replace(self, **changes)


def _coerce(value, annotation):
    if get_origin(annotation) is Literal:
        if value not in get_args(annotation):
            raise ValueError(f"must be one of {', '.join(map(repr, get_args(annotation)))}")
        return value
    if get_origin(annotation) is tuple:
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise TypeError("must be a list of strings")
        return tuple(value)
    if annotation is bool:
        if not isinstance(value, bool):
            raise TypeError("must be true or false")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("must be an integer")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError("must be a number")
        return float(value)
    if annotation is str:
        if not isinstance(value, str):
            raise TypeError("must be a string")
        return value
    raise TypeError(f"unsupported setting type {annotation}")


__all__ = ["REFERENCE_BASE_MODEL", "ConfigError", "TrainConfig"]
