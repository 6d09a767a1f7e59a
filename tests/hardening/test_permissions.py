"""Every URL pattern, every role. A view added without an entry here fails the first test."""

import pytest
from django.contrib.auth.models import Group
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from moderation.services import api_key_create
from tests.factories import UserFactory
from tests.web.test_views import WEB_ACCESS  # the workspace's pages, tested there with sessions

PUBLIC, CLIENT, ADMIN = "public", "api_client", "admin"
# name -> (who may use it, methods to try)
ACCESS = {
    "healthz": (PUBLIC, ["get"]),
    "readyz": (PUBLIC, ["get"]),
    "metrics": (PUBLIC, ["get"]),  # unless TOXISCOPE_METRICS_TOKEN is set (tests/toxiscope/test_metrics.py)
    "schema": (PUBLIC, ["get"]),
    "swagger-ui": (PUBLIC, ["get"]),
    "favicon": (PUBLIC, ["get"]),
    "perspective-discovery": (PUBLIC, ["get"]),
    "perspective-analyze": (CLIENT, ["post"]),
    "perspective-suggestscore": (CLIENT, ["post"]),
    "api:comments": (CLIENT, ["get", "post"]),
    "api:comment-detail": (CLIENT, ["get"]),
    "api:analyze": (CLIENT, ["post"]),
    "api:routing-rules": (ADMIN, ["get", "post"]),
    "api:routing-rule-detail": (ADMIN, ["get", "patch", "delete"]),
}
ROLES = ["anonymous", "api_client", "moderator", "admin"]


def named_patterns(resolver=None, namespace=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue  # Django's admin site checks is_staff itself (tested below)
            yield from named_patterns(pattern, f"{pattern.namespace}:" if pattern.namespace else namespace)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name}"


def test_every_url_pattern_has_an_access_rule():
    assert set(named_patterns()) == set(ACCESS) | set(WEB_ACCESS)


def client_for(role: str) -> APIClient:
    client = APIClient()
    if role == "anonymous":
        return client
    user = UserFactory(username=f"{role}-user")
    user.groups.add(Group.objects.get(name=role))
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_create(user=user, name='t')[1]}")
    return client


def allowed(rule: str, role: str) -> bool:
    return rule in (PUBLIC, role)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(ACCESS))
def test_each_role_reaches_only_what_it_may(name, role):
    rule, methods = ACCESS[name]
    url = reverse(name, kwargs={"pk": 1} if name.endswith("detail") else None)
    client = client_for(role)
    for method in methods:
        status = getattr(client, method)(url, {}, format="json").status_code
        if allowed(rule, role):
            assert status not in (401, 403), f"{role} {method.upper()} {url}: {status}"
        else:
            assert status == (401 if role == "anonymous" else 403), f"{role} {method.upper()} {url}: {status}"


@pytest.mark.django_db
def test_the_admin_site_is_for_staff_only(client):
    assert client.get("/admin/").status_code == 302  # to the log-in page
    client.force_login(UserFactory(username="plain"))
    assert client.get("/admin/").status_code == 302
    client.force_login(UserFactory(username="staff", is_staff=True, is_superuser=True))
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_forms_need_a_csrf_token():
    client = APIClient(enforce_csrf_checks=True)
    user = UserFactory(username="csrf-admin", is_staff=True, is_superuser=True)
    client.force_login(user)
    assert client.post("/admin/moderation/label/add/", {"name": "spam"}).status_code == 403
    # Session-authenticated API writes need the token too (API keys do not: no cookie, no CSRF).
    user.groups.add(Group.objects.get(name="admin"))
    response = client.post("/api/v1/routing-rules/", {"action": "auto_approve"}, format="json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
