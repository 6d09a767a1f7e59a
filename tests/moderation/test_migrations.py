"""Data migrations keep what was stored. Run on a database of their own (a fresh SQLite file, in
a process of its own): migrating the suite's database back and forth would disturb the tests
after this one."""

import subprocess
import sys

from django.core.management import call_command

from tests.servers import sqlite_env
from tests.tiny import REPO

STEPS = """
from django.core.management import call_command
from django.db import connection
def rule():
    with connection.cursor() as cursor:
        cursor.execute("SELECT threshold, margin FROM moderation_routingrule WHERE action = 'auto_approve'")
        return cursor.fetchall()
call_command("migrate", "moderation", "0015", verbosity=0)
with connection.cursor() as cursor:
    cursor.execute("UPDATE moderation_routingrule SET threshold = 0.15 WHERE action = 'auto_approve'")
call_command("migrate", "moderation", "0016", verbosity=0)
print("after", rule())
call_command("migrate", "moderation", "0015", verbosity=0)
with connection.cursor() as cursor:
    cursor.execute("SELECT threshold FROM moderation_routingrule WHERE action = 'auto_approve'")
    print("back", cursor.fetchall())
call_command("migrate", verbosity=0)
"""


def test_an_auto_approve_rules_threshold_becomes_its_margin_and_back(tmp_path):
    env = sqlite_env(tmp_path / "var")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"], cwd=REPO, env=env, check=True, capture_output=True
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", STEPS], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if line.startswith(("after", "back")))
    assert lines["after"] == "[(None, 0.15)]" and lines["back"] == "[(0.15,)]"


def test_the_migrations_match_the_models(db):
    """A model change without its migration would reach a database as a different schema."""
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)  # exits non-zero on a difference
