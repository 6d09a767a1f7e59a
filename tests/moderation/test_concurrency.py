"""Races against the real database: the invariants must hold under concurrent requests."""

import threading
import time

import pytest
from django.db import connection, transaction

from moderation.models import Comment, ReviewItem, ReviewQueue
from moderation.services import comments as comments_service
from moderation.services import comments_submit_many
from moderation.services.review import review_item_claim_next
from tests.factories import ApiClientFactory, ModeratorFactory, ReviewItemFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def run_concurrently(target, count: int) -> list:
    barrier = threading.Barrier(count)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(target())
        except Exception as exc:  # noqa: BLE001 - collected and asserted on below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


def test_concurrent_submits_of_one_external_id_store_it_once():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so there is no race to test")
    client = ApiClientFactory()
    results = run_concurrently(
        lambda: comments_submit_many(client=client, items=[{"text": "same", "external_id": "race"}])[0], 8
    )
    assert Comment.objects.filter(client=client, external_id="race").count() == 1
    assert sum(result.created for result in results) == 1
    assert len({result.comment.pk for result in results}) == 1
    assert ReviewItem.objects.count() == 1


def test_a_duplicate_that_lands_between_planning_and_insert_takes_the_exact_path(monkeypatch):
    client = ApiClientFactory()
    first = comments_submit_many(client=client, items=[{"text": "first", "external_id": "late"}])[0]
    original_plan = comments_service._plan

    def plan_that_missed_it(client, items):
        # As if another request stored "late" right after our existence query.
        return [comments_service.SubmitResult(comment=Comment(client=client, **item), created=True) for item in items]

    monkeypatch.setattr(comments_service, "_plan", plan_that_missed_it)
    results = comments_submit_many(client=client, items=[{"text": "again", "external_id": "late"}, {"text": "new"}])
    monkeypatch.setattr(comments_service, "_plan", original_plan)
    assert [r.created for r in results] == [False, True]
    assert results[0].comment.pk == first.comment.pk
    assert Comment.objects.filter(client=client).count() == 2
    assert results[1].comment.route_action == "review"  # the new one was still routed


def test_moderators_claiming_at_once_each_get_a_different_item():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so there is no race to test")
    general = ReviewQueue.objects.get(slug="general")
    items = {ReviewItemFactory().pk for _ in range(8)}
    moderators = iter([ModeratorFactory() for _ in range(10)])
    lock = threading.Lock()

    def claim():
        with lock:
            moderator = next(moderators)
        with transaction.atomic():  # hold the row locks a while, as a slow request would
            item = review_item_claim_next(queue=general, moderator=moderator)
            time.sleep(0.3)
        return item.pk if item else None

    claimed = run_concurrently(claim, 10)
    got = [pk for pk in claimed if pk is not None]
    assert sorted(got) == sorted(items) and claimed.count(None) == 2
