import os
import threading
import warnings
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connections
from django.test.utils import override_settings

from moderation.engine import api_keys
from moderation.engine.config import routing_config
from moderation.engine.scoring import active_model
from tests.factories import install_version
from tests.tiny import DEMO_CSV, JIGSAW_CSV, tiny_config
from training import DEFAULT_LABELS
from training.data import in_evaluation_set, read_csv_examples

CHROMIUM = Path(os.environ.get("TOXISCOPE_CHROMIUM", "/usr/bin/chromium"))

# Random audit samples, and comments taken to teach the model, would make routes and item counts
# vary: tests of either set their own rate or budget. Set in the environment too, for the workers
# and servers the integration tests start.
os.environ["TOXISCOPE_AUDIT_SAMPLE_RATE"] = "0"
os.environ["TOXISCOPE_TEACH_DAILY_BUDGET"] = "0"


def shared_file(name: str) -> Path:
    """A file of ../shared/data, or a loud skip where this machine has none."""
    path = JIGSAW_CSV.parent / name
    if not path.is_file():
        message = f"SKIPPED: {name} not found at {path} (../shared is absent on this machine)"
        warnings.warn(message, stacklevel=2)
        pytest.skip(message)
    return path


@pytest.fixture
def jigsaw_csv() -> Path:
    return shared_file(JIGSAW_CSV.name)


@pytest.fixture(scope="session")
def demo_examples():
    return read_csv_examples(DEMO_CSV, DEFAULT_LABELS)


@pytest.fixture(scope="session")
def trained_artifact(tmp_path_factory, demo_examples):
    """One tiny model, trained once per test session, for the tests that only read it. Like
    every version the platform trains, it leaves the evaluation set out."""
    from training.pipeline import run_training

    examples = [example for example in demo_examples if not in_evaluation_set(example.text)]
    return run_training(tiny_config(), examples, tmp_path_factory.mktemp("artifacts"), name="tiny")


@pytest.fixture(scope="session")
def cascaded_artifact(trained_artifact, tmp_path_factory):
    """The session's tiny model with a cascade band that skips what the bag of words is surest of
    (its validation split is too small for a band within the served budget)."""
    from training.recalibration import add_cascade

    return add_cascade(
        trained_artifact.artifact_path, out_dir=tmp_path_factory.mktemp("cascaded"), name="cascaded", budget=1.0
    )


@pytest.fixture
def demo_data(db):
    """The demo set imported as labelled comments: 21 of them form the evaluation set."""
    call_command("import_comments", str(DEMO_CSV), "--source", "demo", "--no-progress")


@pytest.fixture
def artifacts_dir(settings, tmp_path) -> Path:
    settings.TOXISCOPE_ARTIFACTS_DIR = tmp_path / "artifacts"
    return settings.TOXISCOPE_ARTIFACTS_DIR


@pytest.fixture(autouse=True, scope="session")
def quick_password_checks():
    with override_settings(PASSWORD_HASHERS=["tests.factories.FewIterationsHasher"]):
        yield


@pytest.fixture(autouse=True)
def no_random_routes(settings):
    settings.TOXISCOPE_AUDIT_SAMPLE_RATE = 0
    settings.TOXISCOPE_TEACH_DAILY_BUDGET = 0


@pytest.fixture(autouse=True)
def fresh_caches():
    """Each test asks the database afresh which version is active, what the rules are and which
    API keys are valid, and starts with no rate-limit counts."""
    cache.clear()
    api_keys._recent.clear()
    active_model.invalidate()
    routing_config.invalidate()
    yield
    active_model.invalidate()
    routing_config.invalidate()


@pytest.fixture
def active_version(db, trained_artifact, artifacts_dir):
    return install_version(trained_artifact, artifacts_dir, "tiny-active")


class Receiver:
    """A local webhook endpoint answering with the queued status codes (then 200)."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.requests: list[tuple[Message, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((self.headers, body))  # case-insensitive, like any receiver
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    """Starts local webhook receivers: `receiver(statuses=[503])` answers 503 once, then 200.
    They listen on loopback, a network an admin must let webhooks reach: the test does."""
    settings.TOXISCOPE_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    made = []

    def make(statuses=()):
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for server in made:
        server.close()


@pytest.fixture
def browser():
    """Chromium, started for one test. Not once per session: while Playwright's sync API is
    active, this thread counts as "async" and Django hands it other database connections than
    the test database's own, which the next test's setup would not find."""
    if not CHROMIUM.is_file():
        message = f"SKIPPED: no Chromium at {CHROMIUM}: `make test` installs Debian's chromium package"
        warnings.warn(message, stacklevel=1)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with mock.patch.dict(os.environ, {"DJANGO_ALLOW_ASYNC_UNSAFE": "true"}), sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-background-networking"]
        )
        yield browser
        browser.close()
        connections.close_all()  # those opened in Playwright's context


@pytest.fixture
def screenshots(tmp_path) -> Path:
    """Where pages are photographed: docs/screenshots with `make screenshots`, else a temp dir."""
    target = Path(os.environ.get("TOXISCOPE_SCREENSHOTS_DIR", tmp_path))
    target.mkdir(parents=True, exist_ok=True)
    return target
