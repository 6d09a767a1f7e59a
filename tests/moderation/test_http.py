"""Response headers and request framing."""

import pytest
from django.test import Client

from tests.factories import ModeratorFactory

pytestmark = pytest.mark.django_db


def test_every_page_has_a_content_security_policy_without_inline_script():
    client = Client()
    client.force_login(ModeratorFactory())
    for url in ("/review/", "/login/", "/api/docs/", "/admin/login/"):
        policy = client.get(url)["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["script-src"] == "'self'" and "unsafe" not in directives["script-src"], url
        assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"


def test_json_answers_carry_no_policy_and_svg_documents_do(admin_client, active_version):
    assert "Content-Security-Policy" not in Client().get("/healthz")
    assert "Content-Security-Policy" not in admin_client.get("/api/v1/comments/")
    plot = admin_client.get(f"/models/{active_version.pk}/plots/learning-curve.svg")
    assert plot["Content-Type"] == "image/svg+xml" and "script-src 'self'" in plot["Content-Security-Policy"]


def test_pages_carry_no_inline_script():
    client = Client()
    client.force_login(ModeratorFactory())
    for url in ("/review/", "/login/", "/api/docs/"):
        page = client.get(url).content.decode()
        for tag in page.split("<script")[1:]:
            assert " src=" in tag.split(">", 1)[0], (url, tag[:80])


def test_a_chunked_body_gets_a_clear_411_not_a_misleading_400():
    """As gunicorn passes one on: no Content-Length (tested through gunicorn in test_files_and_logs.py)."""
    response = Client().generic("POST", "/api/v1/comments/", b"", HTTP_TRANSFER_ENCODING="chunked")
    assert response.status_code == 411 and "Content-Length" in response.json()["detail"]
    assert Client().generic("POST", "/login/", b"", HTTP_TRANSFER_ENCODING="chunked").status_code == 411


def test_the_api_docs_page_keeps_to_the_csp_and_a_favicon_is_served(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200 and "<style" not in page.content.decode()
    assert "moderation/swagger.css" in page.content.decode()
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 301 and favicon["Location"].endswith("moderation/favicon.svg")
