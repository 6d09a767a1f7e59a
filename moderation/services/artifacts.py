"""Artifacts into the store (moderation/storage.py): a version's files are stored before its row
exists, and named by it in the transaction that creates it."""

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from moderation.storage import blob_store
from training.artifacts import MANIFEST, file_sha256, verify_artifact

# How long a blob no version names is kept: long enough for the upload that stored it to record
# its version (a run's files are stored one by one, then recorded together).
UNUSED_BLOB_GRACE = timedelta(days=1)


@dataclass(frozen=True)
class StoredArtifact:
    """A sealed artifact directory whose files are all in the store: {file name: (SHA-256, size)}."""

    files: dict[str, tuple[str, int]]


def artifact_upload(*, path: Path) -> StoredArtifact:
    """Store every file of the artifact at `path` (verified first) that the store lacks. Runs
    before any version's transaction: a blob is stored in one of its own, and an upload that
    dies leaves only blobs no version names, pruned later."""
    manifest = verify_artifact(path)
    files = {**manifest["files"], MANIFEST: file_sha256(path / MANIFEST)}
    store = blob_store()
    for name, sha256 in files.items():
        if not store.has(sha256):
            store.put(sha256, path / name)
    return StoredArtifact({name: (sha256, (path / name).stat().st_size) for name, sha256 in files.items()})


def artifact_blobs_prune() -> int:
    """Delete the stored bytes no version names any more (an upload killed before its version
    was recorded) once unused for a day. Returns how many blobs went."""
    return blob_store().prune(unused_since=timezone.now() - UNUSED_BLOB_GRACE)
