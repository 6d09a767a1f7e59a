"""Review items as routing leaves them, for the workspace's browser tests."""

import pytest

from moderation.models import Prediction, ReviewQueue
from tests.factories import ModelVersionFactory, ReviewItemFactory

LABELS = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate", "racism"]
THRESHOLDS = dict(zip(LABELS, [0.6, 0.5, 0.5, 0.4, 0.45, 0.6, 0.6], strict=True))


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
