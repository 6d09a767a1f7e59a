"""The artifact store: bytes in the database, each host's cache filled from it alone."""

import hashlib
import json
import os
import shutil
import time
from datetime import timedelta

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from moderation.engine.scoring import active_model
from moderation.models import ArtifactBlob, ArtifactChunk, ArtifactFile, ModelVersion
from moderation.services.artifacts import artifact_blobs_prune, artifact_upload
from moderation.services.model_versions import model_version_install
from moderation.storage import DatabaseBlobStore, artifact_materialise
from tests.factories import install_version
from training.artifacts import ArtifactError, file_sha256
from training.inference import Scorer

pytestmark = pytest.mark.django_db


def test_a_blob_is_stored_in_chunks_and_read_back_whole(tmp_path, settings):
    settings.TOXISCOPE_ARTIFACT_CHUNK_BYTES = 1024
    data = bytes(range(256)) * 12  # 3,072 bytes: three chunks
    path = tmp_path / "file"
    path.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    store = DatabaseBlobStore()
    assert not store.has(sha)
    store.put(sha, path)
    assert store.has(sha) and ArtifactChunk.objects.filter(blob__sha256=sha).count() == 3
    assert b"".join(store.read(sha)) == data
    store.put(sha, path)  # the same bytes again: stored once
    assert ArtifactBlob.objects.count() == 1


def test_bytes_that_do_not_match_their_checksum_are_not_stored(tmp_path):
    path = tmp_path / "file"
    path.write_bytes(b"what was hashed has changed since")
    with pytest.raises(ArtifactError, match="does not match its checksum"):
        DatabaseBlobStore().put("0" * 64, path)
    assert not ArtifactBlob.objects.exists() and not ArtifactChunk.objects.exists()
    with pytest.raises(ArtifactError, match="not in the artifact store"):
        list(DatabaseBlobStore().read("0" * 64))


def test_another_host_materialises_a_version_from_the_store_alone(trained_artifact, artifacts_dir, settings, tmp_path):
    version = install_version(trained_artifact, artifacts_dir, "shared")
    settings.TOXISCOPE_ARTIFACTS_DIR = tmp_path / "other-host"  # no shared file system
    path = artifact_materialise(version)
    assert path == (tmp_path / "other-host" / "shared").resolve()
    for file in version.artifact_files.all():
        assert file_sha256(path / file.name) == file.sha256 == file_sha256(artifacts_dir / "shared" / file.name)
    texts = ["you idiot", "thanks for the fix"]
    np.testing.assert_array_equal(Scorer(path).score(texts), Scorer(artifacts_dir / "shared").score(texts))
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_a_cached_copy_of_another_version_of_the_same_name_is_replaced(trained_artifact, artifacts_dir):
    """A version name reused by another database (a restored backup, a second deployment on the
    host) must not be served from the first one's files."""
    version = install_version(trained_artifact, artifacts_dir, "reused")
    manifest = artifacts_dir / "reused" / "manifest.json"
    record = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**record, "seed": record["seed"] + 1}))  # another artifact's manifest
    path = artifact_materialise(version)
    assert file_sha256(path / "manifest.json") == version.artifact_files.get(name="manifest.json").sha256


def test_pruning_deletes_only_old_bytes_that_no_version_names(trained_artifact, artifacts_dir, tmp_path):
    version = install_version(trained_artifact, artifacts_dir, "kept")
    orphan = tmp_path / "orphan"
    orphan.write_bytes(b"an upload killed before its version was recorded")
    recent = tmp_path / "recent"
    recent.write_bytes(b"an upload still running")
    store = DatabaseBlobStore()
    for path in (orphan, recent):
        store.put(file_sha256(path), path)
    ArtifactBlob.objects.update(touched_at=timezone.now() - timedelta(days=2))
    ArtifactBlob.objects.filter(sha256=file_sha256(recent)).update(touched_at=timezone.now())
    assert artifact_blobs_prune() == 1
    assert not store.has(file_sha256(orphan)) and store.has(file_sha256(recent))
    assert artifact_materialise(version)  # every named blob is still there


def test_an_install_whose_upload_dies_leaves_no_version_and_only_whole_unnamed_blobs(
    trained_artifact, artifacts_dir, monkeypatch
):
    """As a training run's upload (the worker killed mid-upload: tests/integration/test_multi_host.py)."""
    stored = []
    put = DatabaseBlobStore.put

    def dying_put(self, sha256, path):
        if len(stored) == 3:
            raise OSError("the disk went away mid-upload")
        put(self, sha256, path)
        stored.append(sha256)

    monkeypatch.setattr(DatabaseBlobStore, "put", dying_put)
    with pytest.raises(ValidationError, match="mid-upload"):
        model_version_install(source=trained_artifact.artifact_path, name="dying")
    assert not ModelVersion.objects.exists() and not ArtifactFile.objects.exists()
    assert not (artifacts_dir / "dying").exists()
    blobs = ArtifactBlob.objects.all()
    assert len(blobs) == 3
    for blob in blobs:  # each whole
        assert hashlib.sha256(b"".join(DatabaseBlobStore().read(blob.sha256))).hexdigest() == blob.sha256
    ArtifactBlob.objects.update(touched_at=timezone.now() - timedelta(days=2))
    assert artifact_blobs_prune() == 3 and not ArtifactChunk.objects.exists()


def test_an_upload_refuses_a_damaged_directory(trained_artifact, tmp_path):
    damaged = shutil.copytree(trained_artifact.artifact_path, tmp_path / "damaged")
    (damaged / "thresholds.json").write_text("{}")
    with pytest.raises(ArtifactError, match="does not match its checksum"):
        artifact_upload(path=damaged)
    assert not ArtifactBlob.objects.exists()


def test_a_hosts_unused_copies_of_retired_versions_go_when_its_active_version_changes(
    trained_artifact, artifacts_dir, settings
):
    settings.TOXISCOPE_ARTIFACT_CACHE_DAYS = 7
    old = install_version(trained_artifact, artifacts_dir, "old", status="retired")
    install_version(trained_artifact, artifacts_dir, "recent", status="retired")
    install_version(trained_artifact, artifacts_dir, "candidate", status="candidate")
    eight_days_ago = time.time() - 8 * 86400
    for name in ("old", "candidate"):
        os.utime(artifacts_dir / name, (eight_days_ago, eight_days_ago))
    (artifacts_dir / ".plots").mkdir()
    install_version(trained_artifact, artifacts_dir, "active")
    active_model.invalidate()
    assert active_model.get().name == "active"
    assert sorted(path.name for path in artifacts_dir.iterdir()) == [".plots", "active", "candidate", "recent"]
    assert artifact_materialise(old).is_dir()  # the store keeps it: fetched again on use
