import pytest

from moderation.services.scoring import active_model
from tests.factories import install_version


@pytest.fixture(autouse=True)
def fresh_active_model():
    """Each test asks the database afresh which version is active."""
    active_model.invalidate()
    yield
    active_model.invalidate()


@pytest.fixture
def active_version(db, trained_artifact, artifacts_dir):
    return install_version(trained_artifact, artifacts_dir, "tiny-active")
