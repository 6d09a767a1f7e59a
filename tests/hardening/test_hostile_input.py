"""Each class of input that once got a 500 gets a clear 4xx, in JSON on every API path."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from moderation.models import Comment, RoutingRule
from moderation.services import api_key_create
from tests.factories import AdminFactory, ApiClientFactory, ModeratorFactory, ReviewItemFactory

pytestmark = pytest.mark.django_db
PERSPECTIVE = "/v1alpha1/comments:analyze"
DEEP = "[" * 3000 + "]" * 3000  # about 6 KB: the standard parser's recursion ran out


@pytest.fixture
def api_key():
    return api_key_create(user=ApiClientFactory(), name="hostile")[1]


@pytest.fixture
def api(api_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    return client


@pytest.fixture
def admin_api():
    user = AdminFactory()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_create(user=user, name='admin')[1]}")
    return client


def _json_4xx(response, status=400):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    return response.json()


@pytest.mark.parametrize(
    "body",
    [
        DEEP,
        '{"text": "hi", "metadata": {"a": ' + "[" * 50 + "]" * 50 + "}}",
        '{"text": "hi", "metadata": {"big": 1e999}}',
        '{"text": "hi", "metadata": {"nan": NaN}}',
        '{"text": "hi", "metadata": {"inf": -Infinity}}',
        '{"text": "bad \\ud800 surrogate"}',
        '{"text": "hi", "metadata": {"\\udc00": "key"}}',
        '{"text": "hi", "metadata": {"n": ' + "9" * 5000 + "}}",
    ],
    ids=["deep", "deep-metadata", "1e999", "NaN", "Infinity", "surrogate", "surrogate-key", "huge-int"],
)
@pytest.mark.parametrize("path", ["/api/v1/comments/", "/api/v1/analyze/"])
def test_hostile_json_is_a_400_and_nothing_is_stored(api, active_version, path, body):
    response = api.post(path, body, content_type="application/json")
    assert response.status_code in (400, 413), response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert not Comment.objects.exists()


def test_hostile_json_on_the_routing_rules_api(admin_api):
    before = RoutingRule.objects.count()
    for body in (DEEP, '{"action": "review", "threshold": 1e999}', '{"action": "review", "source": "\\ud800"}'):
        _json_4xx(admin_api.post("/api/v1/routing-rules/", body, content_type="application/json"))
    assert RoutingRule.objects.count() == before


def test_the_routing_rules_api_refuses_a_number_as_source(admin_api):
    body = _json_4xx(admin_api.post("/api/v1/routing-rules/", {"action": "review", "source": 5}, format="json"))
    assert body == {"source": ["Not a valid string."]}


@pytest.mark.parametrize("text", ["\u200b", "\u200b\u200c\u200d\ufeff", " \u2060 \n", "\u00ad\u180e"])
def test_text_of_invisible_characters_only_is_blank(api, active_version, key_for_perspective, text):
    body = _json_4xx(api.post("/api/v1/comments/", {"text": text}, format="json"))
    assert body == {"text": ["This field may not be blank."]}
    perspective = {"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}}}
    error = _json_4xx(APIClient().post(f"{PERSPECTIVE}?key={key_for_perspective}", perspective, format="json"))
    assert error["error"]["message"] == "Comment must be non-empty."
    assert api.post("/api/v1/comments/", {"text": "\u200bhello"}, format="json").status_code == 201


@pytest.fixture
def key_for_perspective():
    return api_key_create(user=ApiClientFactory(), name="perspective")[1]


@pytest.mark.parametrize(
    "body",
    [
        '{"comment": "text", "requestedAttributes": {"TOXICITY": {}}}',
        '{"comment": {"text": 5}, "requestedAttributes": {"TOXICITY": {}}}',
        '{"comment": {"text": "hi", "type": {"x": 1}}, "requestedAttributes": {"TOXICITY": {}}}',
        '{"comment": {"text": "hi"}, "requestedAttributes": ["TOXICITY"]}',
        '{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": 5}}',
        '{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {"scoreThreshold": "0.5"}}}',
        '{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {"scoreThreshold": true}}}',
        '{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {"scoreThreshold": [0.5]}}}',
        '{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "languages": "en"}',
        '{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "languages": [5]}',
        '{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "clientToken": "\\ud800"}',
        '{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "languages": ["\\udfff"]}',
        '{"comment": {"text": "hi"}, "requestedAttributes": {"\\ud800": {}}}',
        '{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "x": 1e999}',
        DEEP,
    ],
)
def test_perspective_fields_of_the_wrong_type_or_malformed_unicode_are_a_400(key_for_perspective, active_version, body):
    response = APIClient().post(f"{PERSPECTIVE}?key={key_for_perspective}", body, content_type="application/json")
    error = _json_4xx(response)["error"]
    assert error["code"] == 400 and error["status"] == "INVALID_ARGUMENT" and error["message"]


def test_api_paths_answer_json_for_djangos_own_errors(api):
    # A forged Host header is refused by Django before any view: still JSON on an API path.
    assert _json_4xx(api.get("/api/v1/comments/", HTTP_HOST="evil.example"), 400) == {"detail": "Bad request."}
    assert _json_4xx(api.get("/api/v1/nowhere/"), 404) == {"detail": "Not found."}
    page = Client().get("/review/", HTTP_HOST="evil.example")
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")


def test_an_unexpected_error_on_an_api_path_is_json(api, monkeypatch):
    from moderation import services

    def fail(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "comments_submit_many", fail)
    api.raise_request_exception = False
    response = api.post("/api/v1/comments/", {"text": "hi"}, format="json")
    assert response.status_code == 500 and response.json() == {"detail": "Server error."}


@pytest.mark.parametrize("value", ["²", "١٢", "9" * 30, "-1", "1e3", "٣"])
def test_unusual_digits_in_ids_are_not_an_error(value):
    item = ReviewItemFactory()
    client = Client()
    client.force_login(ModeratorFactory())
    queue = item.queue.slug
    assert client.get(f"/review/{queue}/work/", {"item": value}).status_code == 200
    for action in ("back", "undo"):
        url = f"/review/{queue}/back/" if action == "back" else "/review/undo/"
        assert client.post(url, {"current": value, "queue": queue}).status_code in (200, 302)


@pytest.mark.parametrize("field", ["min_age_hours", "max_age_hours"])
@pytest.mark.parametrize("value", ["1e308", "1e20", "9" * 400, "inf", "nan"])
def test_numeric_filters_that_overflow_are_a_message_not_an_error(field, value):
    item = ReviewItemFactory()
    client = Client()
    client.force_login(ModeratorFactory())
    for page in (f"/review/{item.queue.slug}/", f"/review/{item.queue.slug}/work/"):
        response = client.get(page, {field: value})
        assert response.status_code == 200, (page, response.status_code)
