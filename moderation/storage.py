"""The artifact store: every model version's files, where every host can read them.

The database is the source of truth (PostgreSQL or the SQLite default alike): each file's bytes
are a blob, addressed by their SHA-256 and kept in chunks (`DatabaseBlobStore`), and a version's
`ArtifactFile` rows name its files, the manifest among them. Those rows are created in the
version's own transaction, after the bytes are stored: no version is visible half-uploaded.

Each process materialises a version into its host's cache directory (`TOXISCOPE_ARTIFACTS_DIR`)
on first use, verifies it against the manifest's checksums, and serves from there. Another
store (an S3-compatible one, through django-storages) implements `BlobStore`'s four methods and
is named by `TOXISCOPE_ARTIFACT_STORE`; the file rows stay in the database.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from moderation.models import ArtifactBlob, ArtifactChunk, ArtifactFile, ModelVersion
from training.artifacts import MANIFEST, ArtifactError, file_sha256, verify_artifact


class BlobStore(Protocol):
    def has(self, sha256: str) -> bool:
        """Whether the blob is stored; a hit counts as a use (pruning spares it)."""

    def put(self, sha256: str, path: Path) -> None:
        """Store `path`'s bytes, whole or not at all, refusing bytes that do not hash to `sha256`."""

    def read(self, sha256: str) -> Iterator[bytes]:
        """The blob's bytes, in pieces; ArtifactError when it is not stored."""

    def prune(self, *, unused_since: datetime) -> int:
        """Delete the blobs no version's file names that were last used before `unused_since`."""


class DatabaseBlobStore:
    """Blobs as rows: one per file, its bytes in chunks of `TOXISCOPE_ARTIFACT_CHUNK_BYTES`."""

    def has(self, sha256: str) -> bool:
        return ArtifactBlob.objects.filter(sha256=sha256).update(touched_at=timezone.now()) > 0

    def put(self, sha256: str, path: Path) -> None:
        # One transaction per blob, not per artifact: a blob is whole or absent, and no lock is
        # held across a whole artifact's upload (an orphan left by a killed upload is pruned).
        digest = hashlib.sha256()
        with transaction.atomic(), open(path, "rb") as handle:
            blob, created = ArtifactBlob.objects.get_or_create(
                sha256=sha256, defaults={"size": os.fstat(handle.fileno()).st_size, "touched_at": timezone.now()}
            )
            if not created:  # stored meanwhile by another upload of the same bytes
                return
            for index, chunk in enumerate(iter(lambda: handle.read(settings.TOXISCOPE_ARTIFACT_CHUNK_BYTES), b"")):
                digest.update(chunk)
                ArtifactChunk.objects.create(blob=blob, index=index, data=chunk)
            if digest.hexdigest() != sha256:
                raise ArtifactError(f"{path} does not match its checksum: changed while it was stored")

    def read(self, sha256: str) -> Iterator[bytes]:
        blob = ArtifactBlob.objects.filter(sha256=sha256).first()
        if blob is None:
            raise ArtifactError(f"blob {sha256} is not in the artifact store")
        # One chunk a query: a reader holds one chunk in memory, not the file.
        for pk in ArtifactChunk.objects.filter(blob=blob).order_by("index").values_list("pk", flat=True):
            yield bytes(ArtifactChunk.objects.values_list("data", flat=True).get(pk=pk))

    def prune(self, *, unused_since: datetime) -> int:
        used = ArtifactFile.objects.values("sha256")
        _, deleted = ArtifactBlob.objects.filter(touched_at__lt=unused_since).exclude(sha256__in=used).delete()
        return deleted.get(ArtifactBlob._meta.label, 0)  # blobs, not their chunks


def blob_store() -> BlobStore:
    store: BlobStore = import_string(settings.TOXISCOPE_ARTIFACT_STORE)()
    return store


def cache_path(version: ModelVersion) -> Path:
    """Where this host keeps the version's artifact: a directory named after it, directly under
    the cache, whatever the name holds ("..", a slash)."""
    cache = Path(settings.TOXISCOPE_ARTIFACTS_DIR).resolve()
    path = (cache / version.name).resolve()
    if path.parent != cache:
        raise ArtifactError(f"model version name {version.name!r} is not a directory name")
    return path


# The cached copies this process has verified in full, by path and manifest checksum: a later
# use checks the manifest alone.
_verified: set[tuple[Path, str]] = set()
_verified_lock = threading.Lock()


def artifact_materialise(version: ModelVersion) -> Path:
    """The version's artifact in this host's cache: fetched from the store on first use, and
    fetched again when the cached copy is not the stored one (a version of the same name from
    an earlier database) or does not verify (a damaged disk)."""
    files = dict(ArtifactFile.objects.filter(version=version).values_list("name", "sha256"))
    if MANIFEST not in files:
        raise ArtifactError(f"model version {version.name} has no artifact in the store")
    path = cache_path(version)
    key = (path, files[MANIFEST])
    if key in _verified and _manifest_matches(path, files[MANIFEST]):
        return path
    if not (_manifest_matches(path, files[MANIFEST]) and _verifies(path)):
        cache_discard(path)
        _fetch(files, path)
        verify_artifact(path)
    with _verified_lock:
        _verified.add(key)
    os.utime(path)  # its last use on this host, for cache_prune
    return path


def cache_prune(*, keep: Iterable[str], unused_for: timedelta) -> list[str]:
    """Remove this host's cached copies of versions outside `keep` that no process here has
    used for `unused_for`: the store still holds them, and a later use fetches them again.
    Returns the names removed."""
    cache = Path(settings.TOXISCOPE_ARTIFACTS_DIR)
    if not cache.is_dir():
        return []
    kept, cutoff, removed = set(keep), time.time() - unused_for.total_seconds(), []
    for path in cache.iterdir():
        # A name starting with "." is a fetch, a discard or the plots' cache, not a version.
        if path.name.startswith(".") or path.name in kept or not path.is_dir():
            continue
        if path.stat().st_mtime < cutoff:
            cache_discard(path)
            removed.append(path.name)
    return removed


def _manifest_matches(path: Path, sha256: str) -> bool:
    try:
        return file_sha256(path / MANIFEST) == sha256
    except OSError:
        return False


def _verifies(path: Path) -> bool:
    try:
        verify_artifact(path)
    except ArtifactError:
        return False
    return True


def cache_discard(path: Path) -> None:
    """Move a cached copy out of the way first (a rename is atomic), then delete it: a process
    that reads it meanwhile sees it whole or not at all."""
    if not path.exists():
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{path.name}.stale.", dir=path.parent))
    with contextlib.suppress(FileNotFoundError):  # another process discarded it first
        os.rename(path, aside / path.name)
    shutil.rmtree(aside, ignore_errors=True)


def _fetch(files: dict[str, str], path: Path) -> None:
    """Write every file into a staging directory beside `path`, check each against its checksum,
    and rename the directory into place. Two processes fetching at once both succeed: the
    second finds the first's copy in place and keeps it."""
    store = blob_store()
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        for name, sha256 in files.items():
            if Path(name).name != name or name.startswith("."):
                raise ArtifactError(f"artifact {path.name} names a file {name!r} outside its directory")
            digest = hashlib.sha256()
            with open(staging / name, "wb") as handle:
                for piece in store.read(sha256):
                    digest.update(piece)
                    handle.write(piece)
            if digest.hexdigest() != sha256:
                raise ArtifactError(f"{name} of {path.name} does not match its checksum in the store")
        for item in (staging, *staging.iterdir()):
            os.chmod(item, 0o700 if item.is_dir() else 0o600)  # readable by the platform's user only
        try:
            os.rename(staging, path)
        except OSError:
            if not path.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
