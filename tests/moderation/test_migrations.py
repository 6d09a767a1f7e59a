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


ARTIFACT_STEPS = """
import os
from pathlib import Path
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
source, missing = os.environ["KEPT_ARTIFACT"], "/gone"
call_command("migrate", "moderation", "0026", verbosity=0)
old = MigrationExecutor(connection).loader.project_state(("moderation", "0026_teaching_queue")).apps
Version = old.get_model("moderation", "ModelVersion")
for name, path in (("kept", source), ("lost", missing)):
    Version.objects.create(name=name, artifact_path=path, base_model="scratch", data_hash="0" * 64)
call_command("migrate", "moderation", verbosity=0)
from moderation.models import ArtifactFile, ModelVersion
from moderation.storage import artifact_materialise, file_sha256
print("files", sorted(ArtifactFile.objects.values_list("version__name", flat=True).distinct()))
path = artifact_materialise(ModelVersion.objects.get(name="kept"))
print("same", all(file_sha256(path / f.name) == file_sha256(Path(source) / f.name) for f in ArtifactFile.objects.all()))
call_command("migrate", "moderation", "0026", verbosity=0)
with connection.cursor() as cursor:
    cursor.execute("SELECT name, artifact_path FROM moderation_modelversion ORDER BY name")
    print("back", [(name, Path(p).parent == path.parent) for name, p in cursor.fetchall()])
"""


def test_artifact_directories_move_into_the_store_and_back(tmp_path, trained_artifact):
    """Directories that the versions pointed at are stored (checksums checked); a version whose
    directory is gone is left without files, and migrating back points each at the cache."""
    env = sqlite_env(
        tmp_path / "var",
        TOXISCOPE_ARTIFACTS_DIR=str(tmp_path / "cache"),
        KEPT_ARTIFACT=str(trained_artifact.artifact_path),
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", ARTIFACT_STEPS],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if line.startswith(("files", "same", "back")))
    assert lines == {"files": "['kept']", "same": "True", "back": "[('kept', True), ('lost', True)]"}
    assert "model version lost: artifact /gone not stored" in done.stderr
