"""Failed log-ins are throttled on both log-in pages (django-axes)."""

import pytest
from django.test import Client

from tests.factories import PASSWORD, AdminFactory, ModeratorFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/login/", "/admin/login/"])
def test_five_wrong_passwords_lock_that_username_out_from_that_address(url, settings):
    user = AdminFactory(is_staff=True)  # the admin site wants staff
    attacker = Client(REMOTE_ADDR="198.51.100.7")
    statuses = [
        # A forged X-Forwarded-For does not make each try come from somewhere new.
        attacker.post(
            url,
            {"username": user.username, "password": f"guess-{attempt}"},
            HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}",
        ).status_code
        for attempt in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert statuses == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]  # the form with its error, then locked
    locked = attacker.post(url, {"username": user.username, "password": PASSWORD})
    assert locked.status_code == 429 and b"Too many failed log-ins" in locked.content
    assert "_auth_user_id" not in attacker.session
    # The person at their own address is not locked out by someone else's failures.
    owner = Client(REMOTE_ADDR="192.0.2.10")
    assert owner.post(url, {"username": user.username, "password": PASSWORD}).status_code == 302


def test_a_successful_log_in_resets_the_count():
    user = ModeratorFactory()
    client = Client()
    for round_ in range(3):
        for attempt in range(3):
            client.post("/login/", {"username": user.username, "password": f"wrong-{round_}-{attempt}"})
        assert client.post("/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
        client.logout()
