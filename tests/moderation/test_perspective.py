"""The Perspective-compatible endpoint, called the way Perspective's users call Perspective."""

import hashlib
import importlib
import json

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from googleapiclient import discovery
from googleapiclient.errors import HttpError
from rest_framework.test import APIClient

from moderation.engine.scoring import active_model
from moderation.models import Comment, ModelVersion
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
    suggestion = {
        "comment": {"text": "friendly greetings from python"},
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0}}},
        "clientToken": "py-1",
    }
    assert client.comments().suggestscore(body=suggestion).execute()["clientToken"] == "py-1"
    from moderation.models import LabelAnnotation

    assert LabelAnnotation.objects.get(origin="client_feedback").value is False


# Coral Talk's two calls, byte for byte as its Perspective integration sends them (the text,
# ids and tenant filled in).
CORAL_ANALYZE = (
    b'{"comment":{"text":"You are a complete idiot"},"doNotStore":true,'
    b'"requestedAttributes":{"TOXICITY":{}},"languages":["en"]}'
)


def coral_suggestscore(value: int, text: str = "You are a complete idiot", comment_id: str = "c-4711") -> bytes:
    context = json.dumps(
        {"url": "https://news.example/story", "reply_to_id_Coral_comment_id": None, "Coral_comment_id": comment_id}
    )
    return json.dumps(
        {
            "comment": {"text": text},
            "context": {"entries": [{"text": context}]},
            "attributeScores": {"TOXICITY": {"summaryScore": {"value": value}}},
            "languages": ["en"],
            "communityId": "Coral:https://news.example",
            "clientToken": f"comment:{comment_id}",
        },
        separators=(",", ":"),
    ).encode()


def post_raw(key, url, body: bytes):
    return APIClient().generic("POST", f"{url}?key={key}", body, content_type="application/json")


SUGGEST_URL = "/v1alpha1/comments:suggestscore"


@pytest.mark.django_db
def test_coral_analyze_stores_nothing_with_do_not_store_and_keeps_the_comment_unrouted_without(key, active_version):
    from moderation.models import Comment, Prediction, ReviewItem
    from moderation.services import comments_triage_waiting

    answer = post_raw(key, URL, CORAL_ANALYZE)
    assert answer.status_code == 200, answer.json()
    assert set(answer.json()["attributeScores"]) == {"TOXICITY"} and "detectedLanguages" not in answer.json()
    assert not Comment.objects.exists()
    body = json.loads(CORAL_ANALYZE)
    del body["doNotStore"]  # Perspective's default: stored
    for _ in range(2):  # a repeat is the same comment
        assert post_raw(key, URL, json.dumps({**body, "clientToken": "comment:c-1"}).encode()).status_code == 200
    comment = Comment.objects.get()
    assert comment.external_id == "comment:c-1" and comment.source == "perspective" and not comment.moderated_here
    assert Prediction.objects.get(comment=comment).model_version == active_version
    assert comments_triage_waiting() == 0 and not ReviewItem.objects.exists()  # its client moderates it
    assert post_raw(key, URL, json.dumps({**body, "doNotStore": "no"}).encode()).json()["error"]["code"] == 400


@pytest.mark.django_db
def test_coral_suggestscore_is_a_client_feedback_label_that_the_next_run_learns(key, active_version):
    from moderation.models import AuditEvent, Comment, LabelAnnotation
    from moderation.selectors.training_data import DATA_ORIGINS, training_examples

    answer = post_raw(key, SUGGEST_URL, coral_suggestscore(1))
    assert answer.status_code == 200, answer.json()
    assert answer.json() == {
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}},
        "languages": ["en"],
        "clientToken": "comment:c-4711",
    }
    comment = Comment.objects.get()
    assert (comment.external_id, comment.source, comment.moderated_here) == (
        "comment:c-4711",
        "Coral:https://news.example",
        False,
    )
    annotation = LabelAnnotation.objects.get()
    assert (annotation.label.name, annotation.value, annotation.origin) == ("toxic", True, "client_feedback")
    examples = training_examples(labels=["toxic", "insult"], origins=DATA_ORIGINS)
    assert [(e.text, e.labels) for e in examples] == [("You are a complete idiot", {"toxic": True})]  # insult unknown
    # A moderator in Coral changes their mind: the last suggestion wins, and both are audited.
    assert post_raw(key, SUGGEST_URL, coral_suggestscore(0)).status_code == 200
    assert LabelAnnotation.objects.get().value is False
    assert AuditEvent.objects.filter(action="comment.feedback", target_id=str(comment.pk)).count() == 2
    # A label a moderator here set still wins over the client's.
    LabelAnnotation.objects.create(comment=comment, label=annotation.label, value=True, origin="moderator")
    assert training_examples(labels=["toxic"], origins=DATA_ORIGINS)[0].labels == {"toxic": True}


@pytest.mark.django_db
def test_suggestscore_finds_the_comment_analyze_stored(key, active_version):
    from moderation.models import Comment, LabelAnnotation

    body = {"comment": {"text": "go away, troll"}, "requestedAttributes": {"TOXICITY": {}}}
    assert analyze(key, body).status_code == 200  # stored, no id of the client's
    assert post_raw(key, SUGGEST_URL, coral_suggestscore(1, "go away, troll", "c-9")).status_code == 200
    comment = Comment.objects.get()  # found by its text, and given the client's id
    assert comment.external_id == "comment:c-9" and comment.predictions.exists()
    assert LabelAnnotation.objects.get(comment=comment).value is True


def test_a_comment_stored_without_an_id_is_found_again_through_its_texts_index(key, active_version):
    """A client's later call about the same text finds its comment by the text's hash, through
    the partial index comment_found_by_text: not by reading the texts of the client's week."""
    body = {"comment": {"text": "go away, troll"}, "requestedAttributes": {"TOXICITY": {}}}
    assert analyze(key, body).status_code == 200
    assert Comment.objects.get().text_sha256 == hashlib.sha256(b"go away, troll").hexdigest()
    with CaptureQueriesContext(connection) as queries:
        assert analyze(key, body).status_code == 200
    assert Comment.objects.count() == 1  # found, not stored again
    (lookup,) = [q["sql"] for q in queries if q["sql"].startswith("SELECT") and "text_sha256" in q["sql"]]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # a handful of rows: make the choice visible
            cursor.execute(f"EXPLAIN {lookup}")
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {lookup}")
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "comment_found_by_text" in plan, plan


def test_comments_stored_before_the_index_are_hashed_by_its_migration(key):
    hash_texts = importlib.import_module("moderation.migrations.0029_comment_found_by_text").hash_texts
    client = ApiClientFactory()
    unhashed = Comment.objects.create(client=client, text="old", moderated_here=False)
    with_id = Comment.objects.create(client=client, text="old", moderated_here=False, external_id="c-1")
    hash_texts(django_apps, None)
    unhashed.refresh_from_db()
    with_id.refresh_from_db()
    assert unhashed.text_sha256 == hashlib.sha256(b"old").hexdigest() and with_id.text_sha256 == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"comment": {"text": "hi"}}, "Missing attribute_scores"),
        (
            {"comment": {"text": "hi"}, "attributeScores": {"SPAM": {"summaryScore": {"value": 1}}}},
            "Unknown attribute: SPAM",
        ),
        (
            {"comment": {"text": "hi"}, "attributeScores": {"TOXICITY": {"summaryScore": {"value": 7}}}},
            "attributeScores.TOXICITY.summaryScore.value must be a number from 0 to 1",
        ),
        (
            {"comment": {"text": "hi"}, "attributeScores": {"TOXICITY": {"summaryScore": {"value": True}}}},
            "attributeScores.TOXICITY.summaryScore.value must be a number from 0 to 1",
        ),
        ({"comment": {"text": " "}, "attributeScores": {"TOXICITY": {}}}, "Comment must be non-empty."),
        (
            {
                "comment": {"text": "hi"},
                "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}},
                "communityId": "x" * 101,
            },
            "communityId must be a string of at most 100 characters",
        ),
    ],
)
def test_a_refused_suggestion_stores_nothing(key, body, message):
    from moderation.models import Comment, LabelAnnotation

    answer = post_raw(key, SUGGEST_URL, json.dumps(body).encode())
    assert answer.status_code == 400
    assert answer.json() == {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}}
    assert not Comment.objects.exists() and not LabelAnnotation.objects.exists()


@pytest.mark.django_db
def test_an_admin_switches_a_clients_feedback_off(key, admin_client):
    from moderation.models import ApiKey, AuditEvent, Comment

    api_key = ApiKey.objects.get()
    admin_client.post(
        "/admin/moderation/apikey/", {"action": "refuse_feedback", "_selected_action": [api_key.pk]}, follow=True
    )
    assert ApiKey.objects.get().accepts_feedback is False
    assert AuditEvent.objects.filter(action="api_key.feedback", target_id=str(api_key.pk)).exists()
    answer = post_raw(key, SUGGEST_URL, coral_suggestscore(1))
    assert answer.status_code == 403 and "switched off" in answer.json()["error"]["message"]
    assert answer.json()["error"]["status"] == "PERMISSION_DENIED" and not Comment.objects.exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_coral_calls_replayed_through_gunicorn(trained_artifact, artifacts_dir):
    """Coral's two bodies, byte for byte, through the production server."""
    import requests
    from django.db import connection

    from moderation.models import LabelAnnotation
    from tests.servers import gunicorn, server_env

    if connection.vendor != "postgresql":
        pytest.skip("the server process needs the test database on PostgreSQL")
    install_version(trained_artifact, artifacts_dir, "serving")
    key = api_key_create(user=ApiClientFactory(), name="coral")[1]
    headers = {"Content-Type": "application/json"}
    with gunicorn(server_env(connection, artifacts_dir)) as base:
        analyzed = requests.post(f"{base}{URL}?key={key}", data=CORAL_ANALYZE, headers=headers, timeout=30)
        suggested = requests.post(
            f"{base}{SUGGEST_URL}?key={key}", data=coral_suggestscore(1), headers=headers, timeout=30
        )
    assert analyzed.status_code == 200 and "TOXICITY" in analyzed.json()["attributeScores"]
    assert suggested.status_code == 200 and suggested.json()["clientToken"] == "comment:c-4711"
    assert LabelAnnotation.objects.get(origin="client_feedback").value is True


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field, value",
    [
        ("spanAnnotations", "yes"),
        ("doNotStore", None),
        ("context", None),
        ("context", {"entries": "x"}),
        ("languages", "en"),
        ("clientToken", 7),
        ("comment", "you idiot"),
    ],
)
def test_a_field_of_the_wrong_type_is_refused_in_perspectives_words(key, active_version, field, value):
    body = {"comment": {"text": "you idiot"}, "requestedAttributes": {"TOXICITY": {}}, field: value}
    response = analyze(key, body)
    assert response.status_code == 400 and response.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert field in response.json()["error"]["message"]


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ["a%00b", "%ED%A0%80", "x" * 300, ""])
def test_a_malformed_key_is_a_401_not_a_server_error(active_version, raw):
    body = {"comment": {"text": "hello"}, "requestedAttributes": {"TOXICITY": {}}}
    response = APIClient().post(f"{URL}?key={raw}", body, format="json")
    assert response.status_code == 401 and response.json()["error"]["status"] == "UNAUTHENTICATED"


def test_the_api_docs_show_the_perspective_calls(client):
    schema = client.get("/api/schema/?format=json").json()
    assert {"/v1alpha1/comments:analyze", "/v1alpha1/comments:suggestscore"} <= set(schema["paths"])
    analyze_body = schema["components"]["schemas"]["PerspectiveAnalyzeRequest"]
    assert analyze_body["required"] == ["comment", "requestedAttributes"]
    error = schema["paths"]["/v1alpha1/comments:analyze"]["post"]["responses"]["400"]
    assert error["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/PerspectiveError"


@pytest.mark.django_db
def test_span_scores_score_each_sentence_as_perspective_does(key, active_version):
    text = "Thanks for the update on the roads. You are a stupid idiot!\nSee you at the meeting."
    body = {"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {"scoreType": "PROBABILITY"}}}
    answer = analyze(key, body | {"spanAnnotations": True}).json()["attributeScores"]["TOXICITY"]
    spans = answer["spanScores"]
    assert [text[s["begin"] : s["end"]] for s in spans] == [
        "Thanks for the update on the roads.",
        "You are a stupid idiot!",
        "See you at the meeting.",
    ]
    assert all(s["score"]["type"] == "PROBABILITY" for s in spans) and answer["summaryScore"]["type"] == "PROBABILITY"
    # Each sentence scored on its own: as the API scores that sentence.
    ours = APIClient()
    ours.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    for span in spans:
        alone = ours.post("/api/v1/analyze/", {"text": text[span["begin"] : span["end"]]}, format="json")
        assert span["score"]["value"] == pytest.approx(alone.json()["scores"]["toxic"], abs=1e-6)
    one = analyze(
        key, {"comment": {"text": "you idiot"}, "requestedAttributes": {"TOXICITY": {}}, "spanAnnotations": True}
    )
    only = one.json()["attributeScores"]["TOXICITY"]
    assert only["spanScores"] == [{"begin": 0, "end": 9, "score": only["summaryScore"]}]
    assert analyze(key, body).json()["attributeScores"]["TOXICITY"]["spanScores"] == []  # not asked for


@pytest.mark.django_db
def test_an_unsupported_score_type_is_refused(key, active_version):
    body = {"comment": {"text": "hello"}, "requestedAttributes": {"TOXICITY": {"scoreType": "STD_DEV_SCORE"}}}
    response = analyze(key, body)
    assert response.status_code == 400 and "only PROBABILITY is supported" in response.json()["error"]["message"]


@pytest.mark.django_db
def test_languages_are_those_the_active_version_learnt(key, active_version, settings):
    german = "Das ist doch völliger Unsinn, und das weißt du auch ganz genau."
    body = {"comment": {"text": german}, "requestedAttributes": {"TOXICITY": {}}}
    metrics = {**active_version.metrics, "languages": {"en": 300, "de": 40}}
    ModelVersion.objects.filter(pk=active_version.pk).update(metrics=metrics)
    active_model.invalidate()
    settings.TOXISCOPE_LANGUAGE_MIN_COMMENTS = 200
    refused = analyze(key, body | {"languages": ["de"]})
    assert refused.status_code == 400 and "does not support request languages: de" in refused.json()["error"]["message"]
    detected = analyze(key, body)  # no languages sent: detected, and refused alike
    assert detected.status_code == 400 and "languages: de" in detected.json()["error"]["message"]
    # Learnt from enough German comments (by a lower bar here), it serves German.
    settings.TOXISCOPE_LANGUAGE_MIN_COMMENTS = 40
    answer = analyze(key, body | {"languages": ["de-AT"]})
    assert answer.status_code == 200 and answer.json()["languages"] == ["de-AT"]
    assert analyze(key, body).json()["languages"] == ["de"]  # detected
    assert Comment.objects.filter(text=german, language="de-AT").exists()
    short = analyze(key, {"comment": {"text": "ok thanks"}, "requestedAttributes": {"TOXICITY": {}}})
    assert short.status_code == 200 and short.json()["languages"] == ["de", "en"]  # the version's own


@pytest.mark.django_db
def test_feedback_in_any_language_is_kept_with_its_language(key, active_version):
    body = {
        "comment": {"text": "Du bist ein Idiot und alle wissen es"},
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}},
        "languages": ["de"],
    }
    response = APIClient().post(f"/v1alpha1/comments:suggestscore?key={key}", body, format="json")
    assert response.status_code == 200
    assert Comment.objects.get(text="Du bist ein Idiot und alle wissen es").language == "de"


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["EN-\u00cb\u0010x", "english", "e", "en-" + "x" * 20, ""])
def test_a_language_that_is_not_a_code_is_refused(key, active_version, language):
    body = {"comment": {"text": "hello"}, "requestedAttributes": {"TOXICITY": {}}, "languages": [language]}
    response = analyze(key, body)
    assert response.status_code == 400 and "language codes such as en" in response.json()["error"]["message"]
    assert not Comment.objects.exists()
