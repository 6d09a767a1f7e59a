"""The Perspective-compatible endpoint, called the way Perspective's users call Perspective."""

import json

import pytest
from googleapiclient import discovery
from googleapiclient.errors import HttpError
from rest_framework.test import APIClient

from moderation.services import api_key_create
from tests.factories import ApiClientFactory, install_version

URL = "/v1alpha1/comments:analyze"
ALL_ATTRIBUTES = ["TOXICITY", "SEVERE_TOXICITY", "PROFANITY", "THREAT", "INSULT", "IDENTITY_ATTACK"]


@pytest.fixture
def key(db):
    return api_key_create(user=ApiClientFactory(), name="perspective")[1]


def analyze(key, body, **params):
    return APIClient().post(URL + f"?key={key}", body, format="json", **params)


@pytest.mark.django_db
def test_response_shape_and_label_mapping(key, active_version):
    response = analyze(
        key,
        {
            "comment": {"text": "you are an idiot"},
            "languages": ["en"],
            "requestedAttributes": {name: {} for name in ALL_ATTRIBUTES},
        },
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body["attributeScores"]) == set(ALL_ATTRIBUTES)
    for attribute in body["attributeScores"].values():
        assert attribute["summaryScore"]["type"] == "PROBABILITY"
        assert 0.0 <= attribute["summaryScore"]["value"] <= 1.0
    assert body["languages"] == ["en"]
    ours = APIClient()
    ours.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    native = ours.post("/api/v1/analyze/", {"text": "you are an idiot"}, format="json").json()["scores"]
    assert body["attributeScores"]["PROFANITY"]["summaryScore"]["value"] == pytest.approx(native["obscene"])
    assert body["attributeScores"]["IDENTITY_ATTACK"]["summaryScore"]["value"] == pytest.approx(native["identity_hate"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"comment": {"text": "hi"}, "requestedAttributes": {"FLIRTATION": {}}},
            "Unknown requested attribute: FLIRTATION",
        ),
        ({"comment": {"text": "hi"}, "requestedAttributes": {}}, "Missing requested_attributes"),
        ({"comment": {"text": "hi"}}, "Missing requested_attributes"),
        ({"comment": {"text": ""}, "requestedAttributes": {"TOXICITY": {}}}, "Comment must be non-empty."),
        ({"comment": {}, "requestedAttributes": {"TOXICITY": {}}}, "Comment must be non-empty."),
        ({"comment": {"text": "x" * 20_001}, "requestedAttributes": {"TOXICITY": {}}}, "Comment text too long."),
        (
            {"comment": {"text": "bonjour"}, "languages": ["fr"], "requestedAttributes": {"TOXICITY": {}}},
            "Attribute TOXICITY does not support request languages: fr",
        ),
    ],
)
def test_errors_have_perspectives_shape(key, active_version, body, message):
    response = analyze(key, body)
    assert response.status_code == 400
    assert response.json() == {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}}


@pytest.mark.django_db
def test_bad_key_and_no_model(key):
    response = APIClient().post(
        URL + "?key=wrong.key", {"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}}, format="json"
    )
    assert response.status_code == 401
    assert response.json()["error"]["status"] == "UNAUTHENTICATED"
    response = analyze(key, {"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}})
    assert response.status_code == 503 and response.json()["error"]["status"] == "UNAVAILABLE"


@pytest.mark.django_db
def test_score_threshold_omits_low_scores(key, active_version):
    response = analyze(
        key, {"comment": {"text": "hello"}, "requestedAttributes": {"TOXICITY": {"scoreThreshold": 1.01}, "INSULT": {}}}
    )
    assert set(response.json()["attributeScores"]) == {"INSULT"}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_googles_perspective_client_library_pointed_at_toxiscope(live_server, trained_artifact, artifacts_dir):
    """google-api-python-client, as Perspective's documentation uses it; only the URL changes."""
    install_version(trained_artifact, artifacts_dir, "live")
    raw_key = api_key_create(user=ApiClientFactory(), name="google-client")[1]
    client = discovery.build(
        "commentanalyzer",
        "v1alpha1",
        developerKey=raw_key,
        static_discovery=False,
        cache_discovery=False,
        discoveryServiceUrl=f"{live_server.url}/$discovery/rest?version=v1alpha1",
    )
    response = (
        client.comments()
        .analyze(
            body={
                "comment": {"text": "friendly greetings from python"},
                "requestedAttributes": {"TOXICITY": {}, "THREAT": {}},
            }
        )
        .execute()
    )
    assert set(response["attributeScores"]) == {"TOXICITY", "THREAT"}
    assert 0.0 <= response["attributeScores"]["TOXICITY"]["summaryScore"]["value"] <= 1.0
    with pytest.raises(HttpError) as error:
        client.comments().analyze(body={"comment": {"text": "hi"}, "requestedAttributes": {"SPAM": {}}}).execute()
    assert error.value.status_code == 400
    assert json.loads(error.value.content)["error"]["message"] == "Unknown requested attribute: SPAM"
