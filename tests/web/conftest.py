"""Real Chromium (Debian's /usr/bin/chromium) driven by Playwright against a live server."""

import os
import warnings
from pathlib import Path
from unittest import mock

import pytest
from django.db import connections

from moderation.models import Prediction, ReviewQueue
from tests.factories import ModelVersionFactory, ReviewItemFactory

CHROMIUM = Path(os.environ.get("TOXISCOPE_CHROMIUM", "/usr/bin/chromium"))
LABELS = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate", "racism"]
THRESHOLDS = dict(zip(LABELS, [0.6, 0.5, 0.5, 0.4, 0.45, 0.6, 0.6], strict=True))


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


@pytest.fixture
def scored_item():
    """Review items whose comments carry scores from a model version, as routing leaves them."""
    version = ModelVersionFactory(name="bert-tiny-2026-11-20", labels=LABELS, thresholds=THRESHOLDS)

    def make(text: str, scores: dict[str, float], queue: str = "general", **comment):
        flagged = [label for label in LABELS if scores.get(label, 0) >= THRESHOLDS[label]]
        priority = sum(scores.get(label, 0) for label in flagged)
        item = ReviewItemFactory(
            queue=ReviewQueue.objects.get(slug=queue),
            comment__text=text,
            comment__flagged_labels=flagged,
            comment__routed_by=version,
            priority=priority,
            queue_order=priority,
            reason=", ".join(f"{label} {scores[label]:.2f} ≥ {THRESHOLDS[label]:.2f}" for label in flagged),
            **{f"comment__{key}": value for key, value in comment.items()},
        )
        Prediction.objects.create(
            comment=item.comment, model_version=version, scores={label: scores.get(label, 0.01) for label in LABELS}
        )
        return item

    return make
