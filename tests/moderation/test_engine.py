import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db.models.signals import post_migrate

from moderation.apps import _ensure_default_queue
from moderation.engine.config import routing_config
from moderation.models import ReviewQueue

pytestmark = pytest.mark.django_db


def test_loading_the_routing_configuration_writes_nothing(settings):
    settings.TOXISCOPE_DEFAULT_QUEUE = "Nowhere yet"
    with pytest.raises(ImproperlyConfigured, match="run `manage.py migrate`"):
        routing_config.get()
    assert not ReviewQueue.objects.filter(slug="nowhere-yet").exists()


def test_migrate_creates_the_default_queue(settings):
    """Our post_migrate handler, called as `migrate` calls it (running migrate inside a test
    would leave Django's content-type cache stale for later tests)."""
    settings.TOXISCOPE_DEFAULT_QUEUE = "Front page"
    assert _ensure_default_queue in [receiver[1]() for receiver in post_migrate.receivers]
    _ensure_default_queue(sender=apps.get_app_config("moderation"))
    assert routing_config.get().default_queue == ReviewQueue.objects.get(slug="front-page", name="Front page")
