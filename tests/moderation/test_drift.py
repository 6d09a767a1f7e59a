"""selectors/drift.py: the active version's live scores against its validation split."""

import numpy as np
import pytest
from django.test import Client

from moderation.models import Prediction
from moderation.selectors.drift import MIN_LIVE_SCORES, score_drift
from moderation.selectors.model_versions import validation_split_of
from tests.factories import AdminFactory, CommentFactory

pytestmark = pytest.mark.django_db


def stream(version, rows):
    Prediction.objects.bulk_create(
        [Prediction(comment=CommentFactory(), model_version=version, scores=row) for row in rows]
    )


def test_a_steady_stream_does_not_alarm_and_a_shifted_one_does(active_version):
    validation = validation_split_of(active_version)
    labels = validation.labels
    # Steady: the very comments it was measured on, scored as then (twice over, in another order).
    steady = [dict(zip(labels, map(float, row), strict=True)) for row in np.tile(validation.scores, (2, 1))[::-1]]
    stream(active_version, steady)
    drift = {d.label: d for d in score_drift(active_version)}
    assert drift and all(not d.alarming for d in drift.values()), drift
    client = Client()
    client.force_login(AdminFactory())
    assert 'id="drift-alarm"' not in client.get("/models/").content.decode()
    Prediction.objects.all().delete()
    # Shifted: another source's comments, which the model scores high on every label.
    stream(active_version, [dict.fromkeys(labels, 0.97) for _ in range(2 * MIN_LIVE_SCORES)])
    drift = {d.label: d for d in score_drift(active_version)}
    assert drift["toxic"].alarming and drift["toxic"].live == 2 * MIN_LIVE_SCORES
    page = client.get("/models/").content.decode()
    assert 'id="drift-alarm"' in page and "toxic" in page[page.index('id="drift-alarm"') :]


def test_too_few_live_scores_say_nothing(active_version):
    stream(active_version, [{"toxic": 0.9}] * (MIN_LIVE_SCORES - 1))
    assert score_drift(active_version) == []
