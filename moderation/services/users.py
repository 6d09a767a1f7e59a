"""The accounts the platform's commands create: audited like every other write."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from moderation.roles import ADMIN, API_CLIENT, MODERATOR
from moderation.services.audit import audit_event_record


def _roles(names: list[str]) -> list[Group]:
    groups = list(Group.objects.filter(name__in=names))
    if len(groups) != len(names):
        raise ImproperlyConfigured(f"the roles {names} are missing: run `manage.py migrate` first")
    return groups


@transaction.atomic
def user_ensure_api_client(*, username: str, created_by=None):
    """The client account `username` (made, without a password, if missing) in the api_client
    role."""
    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        audit_event_record(actor=created_by, action="user.create", target=user, after={"roles": [API_CLIENT]})
    user.groups.add(*_roles([API_CLIENT]))
    return user


@transaction.atomic
def user_create_admin(*, username: str, email: str, password: str, created_by=None):
    """A superuser in the admin and moderator roles."""
    user = get_user_model().objects.create_superuser(username=username, email=email, password=password)
    user.groups.add(*_roles([ADMIN, MODERATOR]))
    audit_event_record(actor=created_by, action="user.create", target=user, after={"roles": [ADMIN, MODERATOR]})
    return user
