"""Data migrations keep what was stored."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE, AFTER = ("moderation", "0015_review_queue_reserved_slugs"), ("moderation", "0016_routing_rule_margin")


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


@pytest.fixture(autouse=True)
def latest_schema_after():
    """Later tests need the whole schema back, whatever this module migrated to."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_an_auto_approve_rules_threshold_becomes_its_margin_and_back():
    old = _migrate(BEFORE)
    RoutingRule = old.get_model("moderation", "RoutingRule")
    RoutingRule.objects.filter(action="auto_approve").update(threshold=0.15)
    review = RoutingRule.objects.filter(action="review").exclude(threshold=None).first()
    new = _migrate(AFTER)
    rules = new.get_model("moderation", "RoutingRule").objects
    approve = rules.get(action="auto_approve")
    assert (approve.margin, approve.threshold) == (0.15, None)
    if review is not None:  # other rules keep their thresholds
        assert rules.get(pk=review.pk).threshold == review.threshold
    old = _migrate(BEFORE)
    assert old.get_model("moderation", "RoutingRule").objects.get(action="auto_approve").threshold == 0.15


def test_the_migrations_match_the_models():
    """A model change without its migration would reach a database as a different schema."""
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)  # exits non-zero on a difference
