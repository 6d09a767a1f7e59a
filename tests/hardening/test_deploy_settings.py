import os
import secrets
import subprocess
import sys

from tests.tiny import REPO


def test_production_settings_pass_djangos_deploy_checks():
    env = {
        **os.environ,
        "DEBUG": "0",
        "TOXISCOPE_HTTPS": "1",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "toxiscope.example.org",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
