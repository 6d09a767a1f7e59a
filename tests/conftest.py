import warnings
from pathlib import Path

import pytest
from django.core.cache import cache

from moderation.services.routing_config import routing_config
from moderation.services.scoring import active_model
from tests.factories import install_version
from tests.tiny import DEMO_CSV, JIGSAW_CSV, tiny_config
from training import DEFAULT_LABELS
from training.data import read_csv_examples


@pytest.fixture
def jigsaw_csv() -> Path:
    if not JIGSAW_CSV.is_file():
        message = f"SKIPPED: real Jigsaw sample not found at {JIGSAW_CSV} (../shared is absent on this machine)"
        warnings.warn(message, stacklevel=1)
        pytest.skip(message)
    return JIGSAW_CSV


@pytest.fixture(scope="session")
def demo_examples():
    return read_csv_examples(DEMO_CSV, DEFAULT_LABELS)


@pytest.fixture(scope="session")
def trained_artifact(tmp_path_factory, demo_examples):
    """One tiny model, trained once per test session, for the tests that only read it."""
    from training.pipeline import run_training

    return run_training(tiny_config(), demo_examples, tmp_path_factory.mktemp("artifacts"), name="tiny")


@pytest.fixture
def artifacts_dir(settings, tmp_path) -> Path:
    settings.TOXISCOPE_ARTIFACTS_DIR = tmp_path / "artifacts"
    return settings.TOXISCOPE_ARTIFACTS_DIR


@pytest.fixture(autouse=True)
def fresh_caches():
    """Each test asks the database afresh which version is active and what the rules are, and
    starts with no rate-limit counts."""
    cache.clear()
    active_model.invalidate()
    routing_config.invalidate()
    yield
    active_model.invalidate()
    routing_config.invalidate()


@pytest.fixture
def active_version(db, trained_artifact, artifacts_dir):
    return install_version(trained_artifact, artifacts_dir, "tiny-active")
