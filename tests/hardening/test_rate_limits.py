import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from moderation.services import api_key_create
from tests.factories import ApiClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_limits(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"key": "3/min", "anon": "2/min"})


def keyed_client(user=None) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_create(user=user or ApiClientFactory(), name='t')[1]}")
    return client


def test_per_key_limit_answers_429_with_retry_after(low_limits):
    client = keyed_client()
    statuses = [client.post("/api/v1/comments/", {"text": f"c{i}"}, format="json").status_code for i in range(4)]
    assert statuses == [201, 201, 201, 429]
    response = client.get("/api/v1/comments/")
    assert response.status_code == 429
    # Up to two minutes: after a burst, the last minute's count weighs until it is all outside.
    assert 0 < int(response["Retry-After"]) <= 120
    assert keyed_client().get("/api/v1/comments/").status_code == 200  # another key has its own count


def test_the_count_slides_with_the_clock_and_refusals_do_not_count(low_limits, monkeypatch):
    """3 a minute: the last minute's requests weigh by how much of that minute is still inside
    the last 60 seconds, and Retry-After says when there is room again."""
    now = [6000.0]  # a minute's start
    monkeypatch.setattr(SimpleRateThrottle, "timer", lambda self: now[0])
    client = keyed_client()
    assert [client.get("/api/v1/comments/").status_code for _ in range(4)] == [200, 200, 200, 429]
    now[0] = 6060.0  # the next minute: the last one's 3 weigh in full
    refused = client.get("/api/v1/comments/")
    assert refused.status_code == 429 and int(refused["Retry-After"]) in (20, 21)  # their weight falls to 2
    now[0] = 6080.0
    assert [client.get("/api/v1/comments/").status_code for _ in range(2)] == [200, 429]
    now[0] = 6100.0  # the weight is 1: room for one more, had the refusal above not been counted
    assert [client.get("/api/v1/comments/").status_code for _ in range(2)] == [200, 429]


def test_the_limit_is_per_key_not_per_account(low_limits):
    user = ApiClientFactory()
    first, second = keyed_client(user), keyed_client(user)
    assert [first.get("/api/v1/comments/").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert second.get("/api/v1/comments/").status_code == 200


def test_a_forged_x_forwarded_for_does_not_escape_the_per_ip_limit(low_limits, settings):
    client = APIClient()
    statuses = [client.get("/api/schema/", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code for i in range(3)]
    assert statuses == [200, 200, 429]  # no proxy is trusted by default: the header is ignored
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}  # behind one load balancer
    assert client.get("/api/schema/", HTTP_X_FORWARDED_FOR="203.0.113.99").status_code == 200


def test_per_ip_limit_for_anonymous_requests(low_limits):
    client = APIClient()
    assert [client.get("/api/schema/").status_code for _ in range(3)] == [200, 200, 429]
    other_ip = APIClient(REMOTE_ADDR="10.1.2.3")
    assert other_ip.get("/api/schema/").status_code == 200
    assert client.get("/healthz").status_code == 200  # health checks are never throttled


def test_perspective_endpoint_throttles_in_perspectives_shape(low_limits, active_version):
    raw_key = api_key_create(user=ApiClientFactory(), name="p")[1]
    body = {"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}}
    client = APIClient()
    for _ in range(3):
        assert client.post(f"/v1alpha1/comments:analyze?key={raw_key}", body, format="json").status_code == 200
    response = client.post(f"/v1alpha1/comments:analyze?key={raw_key}", body, format="json")
    assert response.status_code == 429 and "Retry-After" in response
    assert response.json()["error"]["status"] == "RESOURCE_EXHAUSTED"


def test_limits_fail_open_when_the_cache_is_down(settings, low_limits):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }  # nothing listens on port 1
    client = keyed_client()
    assert [client.post("/api/v1/comments/", {"text": f"c{i}"}, format="json").status_code for i in range(5)] == [
        201
    ] * 5


def test_wrong_api_keys_from_one_address_are_refused_after_the_limit(settings):
    settings.TOXISCOPE_API_KEY_FAILURES_PER_MINUTE = 3
    good = api_key_create(user=ApiClientFactory(), name="good")[1]
    guesser = APIClient(REMOTE_ADDR="198.51.100.9")
    statuses = []
    for guess in range(5):
        guesser.credentials(HTTP_AUTHORIZATION=f"Api-Key {good[:8]}.guess{guess}")
        statuses.append(guesser.get("/api/v1/comments/").status_code)
    assert statuses == [401, 401, 401, 429, 429]
    perspective = guesser.post("/v1alpha1/comments:analyze?key=wrong.key", {}, format="json")
    assert perspective.status_code == 429  # the same count on Perspective's ?key=
    guesser.credentials(HTTP_AUTHORIZATION=f"Api-Key {good}")
    assert guesser.get("/api/v1/comments/").status_code == 429  # even a right key, for a minute
    elsewhere = APIClient(REMOTE_ADDR="192.0.2.44")
    elsewhere.credentials(HTTP_AUTHORIZATION=f"Api-Key {good}")
    assert elsewhere.get("/api/v1/comments/").status_code == 200
