"""The accounts `create_api_key` and `ensure_admin` make: through services, audited."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from moderation.models import AuditEvent
from moderation.roles import ADMIN, API_CLIENT, MODERATOR

pytestmark = pytest.mark.django_db


def test_create_api_key_makes_an_audited_client_account_once(capsys):
    call_command("create_api_key", "my-site")
    call_command("create_api_key", "my-site", "--name", "second")
    created = AuditEvent.objects.filter(action="user.create")
    assert created.count() == 1 and created.get().after == {"roles": [API_CLIENT]}
    assert AuditEvent.objects.filter(action="api_key.create").count() == 2
    user = get_user_model().objects.get(pk=created.get().target_id)
    assert not user.has_usable_password() and list(user.groups.values_list("name", flat=True)) == [API_CLIENT]


def test_ensure_admin_makes_an_audited_admin(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("ensure_admin", "--username", "ada")
    admin = get_user_model().objects.get(pk=AuditEvent.objects.get(action="user.create").target_id)
    assert admin.is_superuser and sorted(admin.groups.values_list("name", flat=True)) == sorted([ADMIN, MODERATOR])


def test_a_missing_role_is_a_command_error_and_nothing_is_made():
    Group.objects.filter(name=API_CLIENT).delete()
    with pytest.raises(CommandError, match="run `manage.py migrate` first"):
        call_command("create_api_key", "my-site")
    assert not AuditEvent.objects.exists()
