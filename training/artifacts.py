"""A trained model on disk: complete or absent, and never unpickled.

Layout of an artifact directory:
    model.safetensors   encoder + head weights (torch: training, and scoring where ONNX is absent)
    model.onnx, model.int8.onnx   the same model exported for ONNX Runtime, and its int8
                        dynamic quantisation: what the web and worker score with (training/onnx_model.py)
    tokenizer.json      the exact tokeniser (and vocabulary) the model was trained with
    config.json         training config, encoder config, labels, pad id
    thresholds.json     calibrated threshold per label
    calibration.json    per label, the map from raw score to probability ("served"), and with a
                        TF-IDF blend each part's own maps ("parts") (training/calibration.py)
    tfidf.json, tfidf.safetensors   the TF-IDF model blended into the score, if any (training/tfidf.py)
    cascade.json        the band of TF-IDF scores outside which the transformer is not asked, if
                        any (training/cascade.py)
    metrics.json        evaluation (model and baseline), learning curve, timings
    validation.json     the validation split: texts, known labels, scores (training/validation_split.py)
    manifest.json       data hash, seed, sizes, SHA-256 of every file above

It is written into a temporary sibling directory and renamed into place: a reader sees the
whole artifact or nothing. Loading reads safetensors and JSON only. Torch is imported only where
weights are written or the torch model is built: a process serving with ONNX never loads it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from tokenizers import Tokenizer

from training.calibration import ProbabilityMap
from training.cascade import FILE as CASCADE_FILE
from training.cascade import Band, load_band, save_band
from training.onnx_model import INT8_FILE, ONNX_FILE, export_onnx
from training.tfidf import TfidfModel

if TYPE_CHECKING:
    from training.model import MultiLabelClassifier

FILES = (
    "model.safetensors",
    ONNX_FILE,
    INT8_FILE,
    "tfidf.json",
    "tfidf.safetensors",
    CASCADE_FILE,
    "tokenizer.json",
    "config.json",
    "calibration.json",
    "thresholds.json",
    "metrics.json",
    "validation.json",
)
MANIFEST = "manifest.json"
# The layout's version, in the manifest ("format"). An artifact without one is format 1: every
# artifact made before formats were numbered. `_upgrade` reads an older format as the current one.
# 2: config.json's training settings name the normaliser version; calibration.json holds the
#    served maps under "served" (and a blend's parts under "parts").
FORMAT = 2


class ArtifactError(RuntimeError):
    pass


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, sort_keys=True))


def write_artifact(
    out_dir: Path,
    name: str,
    *,
    model: MultiLabelClassifier,
    tokenizer: Tokenizer,
    config: dict[str, Any],
    thresholds: dict[str, float],
    probability_maps: dict[str, Any],
    tfidf: TfidfModel | None,
    onnx: dict[str, bytes],
    metrics: dict[str, Any],
    validation: dict[str, Any],
    manifest: dict[str, Any],
    cascade: Band | None = None,
) -> Path:
    out_dir = Path(out_dir)
    final = out_dir / name
    from safetensors.torch import save_file

    tmp = _staging(out_dir, name)
    try:
        # safetensors refuses tensors that share memory (tied embeddings): save copies.
        state = {key: value.detach().clone().contiguous() for key, value in model.state_dict().items()}
        save_file(state, tmp / "model.safetensors")
        for file, content in onnx.items():
            (tmp / file).write_bytes(content)
        tokenizer.save(str(tmp / "tokenizer.json"))
        _write_json(tmp / "config.json", config)
        _write_json(tmp / "calibration.json", probability_maps)
        if tfidf is not None:
            tfidf.save(tmp)
        if cascade is not None:
            save_band(tmp, cascade)
        _write_json(tmp / "thresholds.json", thresholds)
        _write_json(tmp / "metrics.json", metrics)
        (tmp / "validation.json").write_text(json.dumps(validation, separators=(",", ":")))
        return _seal(tmp, final, manifest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _staging(out_dir: Path, name: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    if (out_dir / name).exists():
        raise ArtifactError(f"artifact {out_dir / name} already exists")
    return Path(tempfile.mkdtemp(prefix=f".{name}.", dir=out_dir))


def _seal(tmp: Path, final: Path, manifest: dict[str, Any]) -> Path:
    """Checksum every file, write the manifest, and rename the staging directory into place."""
    files = {file: file_sha256(tmp / file) for file in FILES if (tmp / file).is_file()}
    _write_json(tmp / MANIFEST, {**manifest, "files": files})
    for path in (tmp, *tmp.iterdir()):
        os.chmod(path, 0o700 if path.is_dir() else 0o600)  # readable by the platform's user only
    os.rename(tmp, final)
    return final


def copy_artifact(source: str | Path, out_dir: Path, name: str) -> Path:
    """`source` copied to `out_dir/name`, whole or not at all, its checksums checked again. An
    artifact made before ONNX serving gets its ONNX files on the way, added to its manifest."""
    manifest = verify_artifact(source)
    tmp = _staging(Path(out_dir), name)
    try:
        shutil.copytree(source, tmp, dirs_exist_ok=True)
        if not (tmp / ONNX_FILE).is_file():
            for file, content in export_onnx(load_artifact(source).model).items():
                (tmp / file).write_bytes(content)
        (tmp / MANIFEST).unlink()
        final = _seal(tmp, Path(out_dir) / name, {key: value for key, value in manifest.items() if key != "files"})
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    verify_artifact(final)
    return final


def pack_artifact(path: str | Path, archive: str | Path) -> None:
    """The artifact at `path` (verified first) as one tar file: its files under a directory of
    its name, for another deployment's `import_model`. Written beside `archive` and renamed."""
    path = Path(path)
    manifest = verify_artifact(path)
    archive = Path(archive)
    partial = archive.with_name(f".{archive.name}.partial")
    try:
        with tarfile.open(partial, "w") as tar:
            for file in (*manifest["files"], MANIFEST):
                tar.add(path / file, arcname=f"{path.name}/{file}", recursive=False)
        os.replace(partial, archive)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def unpack_artifact(archive: str | Path, out_dir: str | Path) -> Path:
    """The artifact in a tar file made by `pack_artifact`, written to `out_dir/<its name>` and
    verified. Reads nothing but the artifact's own files: a link, a device, a path outside its
    directory, or a name the layout does not know is refused before anything is written."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            names = {PurePosixPath(member.name).parts[0] for member in members if member.name}
            if len(names) != 1:
                raise ArtifactError(f"{archive}: an artifact archive holds one directory, found {len(names)}")
            name = names.pop()
            for member in members:
                parts = PurePosixPath(member.name).parts
                if not member.isfile() or len(parts) != 2 or parts[1] not in (*FILES, MANIFEST):
                    raise ArtifactError(f"{archive}: {member.name!r} is not a file of an artifact")
            if name.startswith(".") or name != PurePosixPath(name).name:
                raise ArtifactError(f"{archive}: {name!r} is not an artifact's name")
            tmp = _staging(Path(out_dir), name)
            try:
                for member in members:
                    source = tar.extractfile(member)
                    assert source is not None  # a regular file, checked above
                    with source, open(tmp / PurePosixPath(member.name).parts[1], "wb") as target:
                        shutil.copyfileobj(source, target)
                os.rename(tmp, Path(out_dir) / name)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
    except (tarfile.TarError, EOFError) as exc:
        raise ArtifactError(f"{archive} is not an artifact archive ({exc})") from None
    verify_artifact(Path(out_dir) / name)
    return Path(out_dir) / name


def derive_artifact(
    source: str | Path,
    out_dir: Path,
    name: str,
    *,
    thresholds: dict[str, float],
    metrics: dict[str, Any],
    manifest: dict[str, Any],
    cascade: Band | None = None,
) -> Path:
    """A new artifact that shares `source`'s weights, tokeniser, config and validation split (hard
    links, or copies across file systems) with new thresholds and metrics (a recalibration) and
    a new cascade band, if given. The source is verified first, so its checksums carry over intact."""
    source = Path(source)
    verify_artifact(source)
    out_dir = Path(out_dir)
    tmp = _staging(out_dir, name)
    try:
        new = ("thresholds.json", "metrics.json", *((CASCADE_FILE,) if cascade else ()))
        shared = [file for file in FILES if file not in new]
        for file in (file for file in shared if (source / file).is_file()):  # older artifacts lack some
            try:
                os.link(source / file, tmp / file)
            except OSError:
                shutil.copy2(source / file, tmp / file)
        _write_json(tmp / "thresholds.json", thresholds)
        _write_json(tmp / "metrics.json", metrics)
        if cascade is not None:
            save_band(tmp, cascade)
        return _seal(tmp, out_dir / name, manifest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@dataclass
class LoadedArtifact:
    path: Path
    tokenizer: Tokenizer
    config: dict[str, Any]
    manifest: dict[str, Any]
    probability_maps: dict[str, ProbabilityMap]  # empty for artifacts made before calibration
    part_maps: dict[str, dict[str, ProbabilityMap]]  # {"neural": …, "tfidf": …} with a TF-IDF blend
    tfidf: TfidfModel | None  # blended into the score with weight config["training"]["tfidf_blend"]
    cascade: Band | None  # which comments the bag of words alone may score (training/cascade.py)

    @property
    def labels(self) -> list[str]:
        labels: list[str] = self.config["labels"]
        return labels

    def metrics(self) -> dict[str, Any]:
        metrics: dict[str, Any] = json.loads((self.path / "metrics.json").read_text())
        return metrics

    def thresholds(self) -> dict[str, float]:
        thresholds: dict[str, float] = json.loads((self.path / "thresholds.json").read_text())
        return thresholds

    @cached_property
    def model(self) -> MultiLabelClassifier:
        """The torch model, built on first use: a process serving with ONNX never builds it."""
        from safetensors.torch import load_file
        from transformers import AutoConfig, AutoModel

        from training.model import MultiLabelClassifier

        encoder_config = dict(self.config["encoder"])
        encoder = AutoModel.from_config(AutoConfig.for_model(encoder_config.pop("model_type"), **encoder_config))
        model = MultiLabelClassifier(encoder, n_labels=len(self.labels), dropout=0.0)
        try:
            model.load_state_dict(load_file(self.path / "model.safetensors"))
        except (RuntimeError, OSError) as exc:
            raise ArtifactError(f"artifact {self.path}: weights do not fit the model ({exc})") from None
        model.eval()
        return model


def resolve_inside(path: str | Path, root: str | Path | None) -> Path:
    """The artifact path, refusing one outside `root` (when given): a database row must not be
    able to point the loader at an arbitrary file."""
    resolved = Path(path).resolve()
    if root is not None and not resolved.is_relative_to(Path(root).resolve()):
        raise ArtifactError(f"artifact path {path} is outside the artifacts directory {root}")
    return resolved


def verify_artifact(path: str | Path, root: str | Path | None = None) -> dict[str, Any]:
    """Check the artifact is complete and unmodified; return its manifest."""
    path = resolve_inside(path, root)
    if not path.is_dir():
        raise ArtifactError(f"artifact directory {path} does not exist")
    try:
        manifest: dict[str, Any] = json.loads((path / MANIFEST).read_text())
    except FileNotFoundError:
        raise ArtifactError(f"artifact {path} has no {MANIFEST}: incomplete") from None
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"artifact {path}: {MANIFEST} is corrupt ({exc})") from None
    for file, expected in manifest.get("files", {}).items():
        target = path / file
        if not target.is_file():
            raise ArtifactError(f"artifact {path} is missing {file}")
        if file_sha256(target) != expected:
            raise ArtifactError(f"artifact {path}: {file} does not match its checksum (corrupt or modified)")
    return manifest


def load_artifact(path: str | Path, root: str | Path | None = None) -> LoadedArtifact:
    manifest = verify_artifact(path, root)
    path = resolve_inside(path, root)
    config = json.loads((path / "config.json").read_text())
    calibration = json.loads((path / "calibration.json").read_text()) if (path / "calibration.json").is_file() else {}
    config, calibration = _upgrade(manifest.get("format", 1), config, calibration)
    return LoadedArtifact(
        path=path,
        tokenizer=Tokenizer.from_file(str(path / "tokenizer.json")),
        config=config,
        manifest=manifest,
        tfidf=TfidfModel.load(path) if (path / "tfidf.json").is_file() else None,
        cascade=load_band(path),
        probability_maps=_maps(calibration["served"]),
        part_maps={part: _maps(maps) for part, maps in calibration["parts"].items()},
    )


def _upgrade(format: int, config: dict[str, Any], calibration: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """An artifact's config and calibration in the current format (the files stay as written:
    their checksums are the manifest's)."""
    if format > FORMAT:
        raise ArtifactError(f"artifact format {format} is newer than this release reads ({FORMAT}): upgrade ToxiScope")
    if format < 2:
        # Made before the normaliser (it read text as it was), before calibration (no maps), or
        # with the served maps alone at the top level.
        config = {**config, "training": {"normaliser": 0, "tfidf_blend": 0.0, **config.get("training", {})}}
        calibration = calibration if "served" in calibration else {"served": calibration, "parts": {}}
    return config, calibration


def _maps(record: dict[str, Any]) -> dict[str, ProbabilityMap]:
    return {name: ProbabilityMap.from_dict(value) for name, value in record.items()}
