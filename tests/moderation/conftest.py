import shutil

import pytest

from moderation.models import ModelVersion
from moderation.services.scoring import active_model


@pytest.fixture(autouse=True)
def fresh_active_model():
    """Each test asks the database afresh which version is active."""
    active_model.invalidate()
    yield
    active_model.invalidate()


def install_version(trained_artifact, artifacts_dir, name: str, status: str = "active", thresholds=None):
    """The session's tiny model, copied under the artifacts root and recorded as a version."""
    path = artifacts_dir / name
    shutil.copytree(trained_artifact.artifact_path, path)
    return ModelVersion.objects.create(
        name=name, artifact_path=str(path), base_model="scratch", labels=list(trained_artifact.thresholds),
        thresholds=thresholds or trained_artifact.thresholds, data_hash=trained_artifact.data_hash, status=status,
    )


@pytest.fixture
def active_version(db, trained_artifact, artifacts_dir):
    return install_version(trained_artifact, artifacts_dir, "tiny-active")
