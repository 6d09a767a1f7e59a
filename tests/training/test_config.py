"""One configuration, presets per base model, and the CLI built from its fields."""

import argparse
import dataclasses
import json

import pytest

from training.config import (
    PRETRAINED_PRESET,
    ConfigError,
    TrainConfig,
    add_config_arguments,
    config_overrides,
    preset_for,
)


@pytest.mark.parametrize(
    ("base", "preset"),
    [
        ("scratch", {}),
        ("prajjwal1/bert-tiny", {}),
        ("minilm", PRETRAINED_PRESET),
        ("minilm-tiny", {}),  # BERT-tiny-shaped layers that start random
        ("sentence-transformers/all-MiniLM-L6-v2", PRETRAINED_PRESET),
    ],
)
def test_each_base_gets_its_preset(base, preset):
    assert preset_for(base) == preset


def test_a_local_directory_is_judged_by_its_size(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"hidden_size": 128}))
    assert preset_for(str(tmp_path)) == {}
    (tmp_path / "config.json").write_text(json.dumps({"hidden_size": 384}))
    assert preset_for(str(tmp_path)) == PRETRAINED_PRESET


def test_a_value_given_beats_the_preset():
    assert TrainConfig.for_base({"base_model": "minilm"}).lr == PRETRAINED_PRESET["lr"]
    assert TrainConfig.for_base({"base_model": "minilm", "lr": 3e-5}).lr == 3e-5
    assert TrainConfig.for_base({"base_model": "scratch"}).lr == TrainConfig().lr == 5e-4


def test_the_cli_has_an_option_for_every_setting_with_its_checks():
    parser = argparse.ArgumentParser()
    add_config_arguments(parser)
    names = {spec.name for spec in dataclasses.fields(TrainConfig)}
    flags = {action.dest for action in parser._actions if action.dest in names}
    assert flags == names
    given = config_overrides(parser.parse_args(["--base-model", "minilm", "--max-len", "256", "--no-baseline"]))
    assert given == {"base_model": "minilm", "max_len": 256, "baseline": False}
    with pytest.raises(ConfigError, match="selection: must be one of"):
        TrainConfig.for_base(config_overrides(parser.parse_args(["--max-len", "64"])) | {"selection": "vibes"})
    with pytest.raises(SystemExit):
        parser.parse_args(["--calibration", "sometimes"])


def test_a_teacher_needs_holdout_calibration():
    with pytest.raises(ConfigError, match="calibration"):
        TrainConfig(teacher="/some/artifact", calibration="oof")
