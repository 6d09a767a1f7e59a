import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from moderation.engine.config import routing_config
from moderation.models import ReviewQueue

pytestmark = pytest.mark.django_db


def test_loading_the_routing_configuration_writes_nothing(settings):
    settings.TOXISCOPE_DEFAULT_QUEUE = "Nowhere yet"
    with pytest.raises(ImproperlyConfigured, match="run `manage.py migrate`"):
        routing_config.get()
    assert not ReviewQueue.objects.filter(slug="nowhere-yet").exists()


def test_migrate_creates_the_default_queue(settings):
    settings.TOXISCOPE_DEFAULT_QUEUE = "Front page"
    call_command("migrate", verbosity=0)
    assert routing_config.get().default_queue == ReviewQueue.objects.get(slug="front-page", name="Front page")
