"""The model never runs inside a database transaction: on the SQLite default a transaction holds
the one write lock, and every other client's submit waited for a batch's scoring (503 after
30 s). Checked where the model is called, on the real path of each front end."""

import pytest
from django.db import connection

from moderation.engine.scoring import LoadedVersion
from moderation.models import Comment
from moderation.services import comments_submit_many, comments_triage_waiting
from tests.factories import ApiClientFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def scoring_in_a_transaction(monkeypatch):
    """Records, at each model call, whether a transaction was open."""
    seen = []
    score = LoadedVersion.score_with_parts  # what the analysis calls

    def recording(self, texts):
        seen.append(connection.in_atomic_block)
        return score(self, texts)

    monkeypatch.setattr(LoadedVersion, "score_with_parts", recording)
    return seen


def test_a_sync_submit_scores_before_its_transaction(active_version, scoring_in_a_transaction):
    results = comments_submit_many(client=ApiClientFactory(), items=[{"text": "you idiot"}, {"text": "thanks!"}])
    assert all(result.comment.routed_by_id == active_version.pk for result in results)
    assert scoring_in_a_transaction == [False]


def test_the_worker_scores_waiting_comments_before_it_locks_them(active_version, scoring_in_a_transaction):
    client = ApiClientFactory()
    stored = comments_submit_many(client=client, items=[{"text": f"comment {i}"} for i in range(5)], defer_scoring=True)
    assert scoring_in_a_transaction == []  # deferred: nothing scored in the request
    ids = [result.comment.pk for result in stored]
    assert comments_triage_waiting(comment_ids=ids, batch_size=2) == 5
    assert scoring_in_a_transaction == [False, False, False]  # three batches, none inside a transaction
    assert Comment.objects.filter(pk__in=ids, routed_by=active_version).count() == 5
