import pytest

from moderation.services.routing_config import routing_config
from moderation.services.scoring import active_model
from tests.factories import install_version


@pytest.fixture(autouse=True)
def fresh_caches():
    """Each test asks the database afresh which version is active and what the rules are."""
    active_model.invalidate()
    routing_config.invalidate()
    yield
    active_model.invalidate()
    routing_config.invalidate()


@pytest.fixture
def active_version(db, trained_artifact, artifacts_dir):
    return install_version(trained_artifact, artifacts_dir, "tiny-active")
