"""`export_model` and `import_model`: a version's artifact as one file, between deployments."""

import io
import tarfile

import pytest
from django.core.management import CommandError, call_command

from moderation.models import ArtifactFile, AuditEvent, ModelVersion
from tests.factories import install_version

pytestmark = pytest.mark.django_db


def test_a_version_exported_here_imports_elsewhere_with_the_same_bytes(
    trained_artifact, artifacts_dir, tmp_path, capsys
):
    version = install_version(trained_artifact, artifacts_dir, "exported")
    archive = tmp_path / "exported.tar"
    call_command("export_model", "exported", str(archive))
    files = dict(version.artifact_files.values_list("name", "sha256"))
    # Another deployment: its own database rows and cache.
    ModelVersion.objects.all().delete()
    assert not ArtifactFile.objects.exists()
    call_command("import_model", str(archive))
    imported = ModelVersion.objects.get()
    assert (imported.name, imported.status) == ("exported", "candidate")
    assert dict(imported.artifact_files.values_list("name", "sha256")) == files
    assert imported.thresholds == version.thresholds and imported.train_size == version.train_size
    audit = AuditEvent.objects.get(action="model_version.install")
    assert audit.after == {"from": "archive exported.tar"}
    call_command("import_model", str(archive), "--name", "exported-again")
    assert ModelVersion.objects.filter(name="exported-again").exists()
    with pytest.raises(CommandError, match="exists already"):
        call_command("import_model", str(archive))


def _archive(path, members):
    with tarfile.open(path, "w") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _file(name, data=b"{}"):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _link(name, target):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, target
    return info, None


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ([_link("evil/config.json", "/etc/passwd")], "not a file of an artifact"),
        ([_file("evil/../../escape.json")], "not a file of an artifact"),
        ([_file("evil/unknown.py")], "not a file of an artifact"),
        ([_file("a/config.json"), _file("b/config.json")], "holds one directory, found 2"),
        ([_file("evil/config.json")], "has no manifest.json"),
    ],
)
def test_an_archive_that_is_not_an_artifact_is_refused_whole(tmp_path, artifacts_dir, members, message):
    archive = _archive(tmp_path / "evil.tar", members)
    with pytest.raises(CommandError, match=message):
        call_command("import_model", str(archive))
    assert not ModelVersion.objects.exists() and not (tmp_path / "escape.json").exists()
    assert not artifacts_dir.exists() or not list(artifacts_dir.iterdir())


def test_import_refuses_what_is_not_an_archive_and_export_an_unknown_version(tmp_path, artifacts_dir):
    text = tmp_path / "model.tar"
    text.write_text("not a tar file")
    with pytest.raises(CommandError, match="is not an artifact archive"):
        call_command("import_model", str(text))
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_model", str(tmp_path / "absent.tar"))
    with pytest.raises(CommandError, match="no model version named 'nobody'"):
        call_command("export_model", "nobody", str(tmp_path / "out.tar"))


def test_an_imported_version_names_files_under_a_directory_name_only(trained_artifact, artifacts_dir, tmp_path):
    version = install_version(trained_artifact, artifacts_dir, "exported")
    archive = tmp_path / "exported.tar"
    call_command("export_model", "exported", str(archive))
    with pytest.raises(CommandError, match="a version name is"):
        call_command("import_model", str(archive), "--name", "../escape")
    assert ModelVersion.objects.get() == version
