import os
import subprocess
import sys

import pytest

from tests.tiny import DEMO_CSV, REPO, tiny_config
from training.__main__ import main

# tests/tiny.py's model, as flags: what is tested is the command, not the model.
TINY_ARGS = [
    f"--{name.replace('_', '-')}={value}"
    for name, value in tiny_config().to_dict().items()
    if name in ("vocab_size", "scratch_hidden", "scratch_layers", "scratch_intermediate", "max_len", "batch_size")
] + ["--no-augment"]


def run_cli(*args, **env):
    return subprocess.run(
        [sys.executable, "-m", "training", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **env},
    )


@pytest.mark.slow
def test_cli_trains_and_prints_the_reference_table_with_the_baseline(tmp_path, capsys):
    # In this process: `python -m training` calls exactly this, and the subprocess tests below
    # cover the entry point; a process of its own would spend 10 s importing torch again.
    args = ["--data", str(DEMO_CSV), "--base-model", "scratch", "--out", str(tmp_path), "--name", "cli"]
    assert main([*args, "--max-epochs", "2", *TINY_ARGS]) == 0
    printed = capsys.readouterr().out
    assert "label" in printed and "TF-IDF F1" in printed
    assert "Macro-F1" in printed and "Micro-F1" in printed
    for label in ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate", "racism"):
        assert label in printed
    assert (tmp_path / "cli" / "model.safetensors").is_file()


def test_cli_reports_an_unreachable_hub_with_the_offline_options(tmp_path):
    result = run_cli(
        "--data", str(DEMO_CSV), "--base-model", "prajjwal1/bert-tiny", "--out", str(tmp_path), "--no-baseline"
    )
    assert result.returncode == 1
    assert "hub" in result.stderr and "--base-model scratch" in result.stderr and "--base-model minilm" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_cli_bad_input_is_a_message_and_a_nonzero_exit(tmp_path):
    missing = run_cli("--data", str(tmp_path / "none.csv"), "--base-model", "scratch", "--out", str(tmp_path))
    assert missing.returncode == 2 and "cannot read" in missing.stderr and "Traceback" not in missing.stderr
    bad_setting = run_cli("--data", str(DEMO_CSV), "--base-model", "scratch", "--out", str(tmp_path), "--lr", "7")
    assert bad_setting.returncode == 2 and "lr: must be in (0, 1)" in bad_setting.stderr
    no_text = tmp_path / "no_text.csv"
    no_text.write_text("id,toxic\n1,0\n")
    wrong_layout = run_cli("--data", str(no_text), "--base-model", "scratch", "--out", str(tmp_path))
    assert wrong_layout.returncode == 2 and "comment_text" in wrong_layout.stderr
