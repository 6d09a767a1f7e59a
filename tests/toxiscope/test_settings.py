"""Settings read from the environment are refused at start, naming the variable, never at the
first comment that needs them."""

import os
import subprocess
import sys

import pytest

from tests.tiny import REPO
from toxiscope.settings import env_number


def test_a_number_setting_takes_numbers_at_or_above_its_minimum(monkeypatch):
    assert env_number("TOXISCOPE_TEST_NUMBER", 7, minimum=1, kind=int) == 7  # unset: the default
    monkeypatch.setenv("TOXISCOPE_TEST_NUMBER", "0.5")
    assert env_number("TOXISCOPE_TEST_NUMBER", 0.25, minimum=0.01) == 0.5


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TOXISCOPE_DRIFT_PSI_ALERT", "high", "TOXISCOPE_DRIFT_PSI_ALERT must be a number, got 'high'"),
        ("TOXISCOPE_DRIFT_PSI_ALERT", "nan", "TOXISCOPE_DRIFT_PSI_ALERT must be at least 0.01, got 'nan'"),
        ("TOXISCOPE_DRIFT_PSI_ALERT", "-1", "TOXISCOPE_DRIFT_PSI_ALERT must be at least 0.01, got '-1'"),
        ("TOXISCOPE_DRIFT_DAYS", "1.5", "TOXISCOPE_DRIFT_DAYS must be an integer, got '1.5'"),
        ("TOXISCOPE_DRIFT_SNAPSHOT_INTERVAL_S", "0", "TOXISCOPE_DRIFT_SNAPSHOT_INTERVAL_S must be at least 1"),
        ("TOXISCOPE_TEACH_DAILY_BUDGET", "-5", "TOXISCOPE_TEACH_DAILY_BUDGET must be at least 0, got '-5'"),
        ("TOXISCOPE_TEACH_RANDOM_SHARE", "1.5", "TOXISCOPE_TEACH_RANDOM_SHARE must be at most 1, got '1.5'"),
        ("TOXISCOPE_TEACH_TEACHER_SHARE", "some", "TOXISCOPE_TEACH_TEACHER_SHARE must be a number, got 'some'"),
    ],
)
def test_a_bad_setting_stops_the_start_with_its_name(name, value, message):
    env = {**os.environ, name: value, "DJANGO_SETTINGS_MODULE": "toxiscope.settings"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0 and message in result.stderr, result.stderr[-2000:]
