"""Hypothesis fuzzes every web view's query parameters and form fields, as a moderator and as
an admin, and the Perspective endpoint's body: no answer is a 5xx, and an API path answers JSON.

Values are what attackers and careless clients send: odd digits, numbers too large for any
type, non-finite floats, control characters, lone surrogates' UTF-8 neighbours, very long
strings, repeated parameters. Derandomized: CI runs the same examples every time.
"""

import dataclasses

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from moderation.models import ReviewItem, TrainingRun
from moderation.services import api_key_create
from tests.factories import AdminFactory, ApiClientFactory, ModeratorFactory, ReviewItemFactory, install_version
from training.config import TrainConfig

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

FORM_FIELDS = [
    *("action", "labels", "touched", "reason", "escalate_to", "confirm", "current", "filters", "queue", "enable"),
    *("item", "text", "nothing_flagged", "author_action", "note", "name"),
    *("label", "source", "model_version", "min_age_hours", "max_age_hours", "expected_count", "page", "q"),
    *("moderator", "since", "until", "origins", "advanced", "teacher", "override", "review", "reject", "days"),
    *(field.name for field in dataclasses.fields(TrainConfig)),
    "epochs",
    "base",
]
NUMBERS = ["0", "-1", "1e308", "-1e308", "1e999", "inf", "-inf", "nan", "9" * 40, "0x10", "1_000", "³", "١٢٣", "٣"]
values = st.one_of(
    st.sampled_from(NUMBERS),
    st.sampled_from(["approve", "reject", "escalate", "general", "toxic", "1", "on", "2026-13-45", "../../etc"]),
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30),
    st.just("x" * 5000),
)
params = st.dictionaries(st.sampled_from(FORM_FIELDS), st.one_of(values, st.lists(values, min_size=2, max_size=3)))
FUZZ = settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


@pytest.fixture
def site(active_version, trained_artifact, artifacts_dir):
    """Something behind every URL: items in a queue, a candidate version, a finished run."""
    items = [ReviewItemFactory() for _ in range(3)]
    candidate = install_version(trained_artifact, artifacts_dir, "fuzz-candidate", status="candidate")
    run = TrainingRun.objects.create(status="succeeded", config={}, model_version=candidate)
    return {"item": items[0].pk, "version": candidate.pk, "active": active_version.pk, "run": run.pk}


def urls(site) -> list[tuple[str, str]]:
    item, version = site["item"], site["version"]
    get = [
        reverse("web:overview"),
        reverse("web:queue", args=["general"]),
        reverse("web:work", args=["general"]),
        reverse("web:history"),
        reverse("web:activity"),
        reverse("web:precision"),
        reverse("web:models"),
        reverse("web:retrain"),
        reverse("web:export", args=["csv"]),
        reverse("web:run", args=[site["run"]]),
        reverse("web:version", args=[version]),
        reverse("web:compare", args=[version]),
        reverse("web:simulator", args=[site["active"]]),
        reverse("web:import"),
    ]
    post = [
        reverse("web:decide", args=["general", item]),
        reverse("web:skip", args=["general", item]),
        reverse("web:author-action", args=["general", item]),
        reverse("web:back", args=["general"]),
        reverse("web:bulk", args=["general"]),
        reverse("web:filter-save", args=["general"]),
        reverse("web:undo"),
        reverse("web:retrain"),
        reverse("web:run-cancel", args=[site["run"]]),
        reverse("web:promote", args=[version]),
        reverse("web:shadow", args=[version]),
        reverse("web:int8", args=[version]),
        reverse("web:simulator", args=[site["active"]]),
        reverse("web:import"),
    ]
    return [("get", url) for url in get] + [("post", url) for url in post]


@pytest.mark.parametrize("role", ["moderator", "admin"])
def test_no_web_view_answers_5xx_to_any_parameters(site, role):
    client = Client(raise_request_exception=False)
    client.force_login(ModeratorFactory() if role == "moderator" else AdminFactory())
    htmx = {"HTTP_HX_REQUEST": "true"}

    def fuzzer(method: str, url: str):
        @FUZZ
        @given(data=params, as_htmx=st.booleans())
        def fuzz(data, as_htmx):
            response = getattr(client, method)(url, data, **(htmx if as_htmx else {}))
            assert response.status_code < 500, (method, url, data, response.status_code)

        return fuzz

    for method, url in urls(site):
        fuzzer(method, url)()
    assert ReviewItem.objects.exists()


perspective_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=40),
        st.sampled_from(["TOXICITY", "INSULT", "en", "fr", "PLAIN_TEXT", "HTML", "\u200b"]),
    ),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8,
)
perspective_bodies = st.fixed_dictionaries(
    {},
    optional={
        "comment": st.one_of(
            perspective_values,
            st.fixed_dictionaries({"text": perspective_values}, optional={"type": perspective_values}),
        ),
        "requestedAttributes": st.one_of(
            perspective_values,
            st.dictionaries(
                st.sampled_from(["TOXICITY", "INSULT", "THREAT", "SPAM", ""]),
                st.one_of(perspective_values, st.fixed_dictionaries({"scoreThreshold": perspective_values})),
                max_size=3,
            ),
        ),
        "languages": perspective_values,
        "clientToken": perspective_values,
        "spanAnnotations": perspective_values,
        "doNotStore": perspective_values,
    },
)


def test_the_perspective_endpoint_answers_every_body_in_perspectives_shape(active_version):
    key = api_key_create(user=ApiClientFactory(), name="fuzz")[1]
    client = APIClient()

    @settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(body=perspective_bodies)
    def fuzz(body):
        response = client.post(f"/v1alpha1/comments:analyze?key={key}", body, format="json")
        assert response.status_code in (200, 400), (body, response.status_code)
        payload = response.json()
        if response.status_code == 200:
            assert set(payload) >= {"attributeScores", "languages"}
        else:
            assert payload["error"]["code"] == 400 and payload["error"]["message"]

    fuzz()


suggestion_bodies = st.fixed_dictionaries(
    {},
    optional={
        "comment": st.one_of(perspective_values, st.fixed_dictionaries({"text": perspective_values})),
        "attributeScores": st.one_of(
            perspective_values,
            st.dictionaries(
                st.sampled_from(["TOXICITY", "THREAT", "SPAM", ""]),
                st.one_of(
                    perspective_values,
                    st.fixed_dictionaries({"summaryScore": st.fixed_dictionaries({"value": perspective_values})}),
                ),
                max_size=3,
            ),
        ),
        "context": st.one_of(
            perspective_values,
            st.fixed_dictionaries(
                {
                    "entries": st.lists(
                        st.fixed_dictionaries(
                            {"text": st.one_of(perspective_values, st.just('{"Coral_comment_id": "7"}'))}
                        ),
                        max_size=2,
                    )
                }
            ),
        ),
        "languages": perspective_values,
        "communityId": perspective_values,
        "clientToken": perspective_values,
    },
)


def test_suggestscore_answers_every_body_in_perspectives_shape_and_stores_only_what_it_accepts():
    from moderation.models import Comment, LabelAnnotation

    key = api_key_create(user=ApiClientFactory(), name="fuzz")[1]

    def stored() -> tuple[int, int]:
        return Comment.objects.count(), LabelAnnotation.objects.count()

    client = APIClient()

    @settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(body=suggestion_bodies)
    def fuzz(body):
        before = stored()
        response = client.post(f"/v1alpha1/comments:suggestscore?key={key}", body, format="json")
        assert response.status_code in (200, 400), (body, response.status_code)
        payload = response.json()
        if response.status_code == 200:
            assert set(payload) == {"attributeScores", "languages", "clientToken"}
            assert stored() >= before
        else:
            assert payload["error"]["code"] == 400 and payload["error"]["message"]
            assert stored() == before  # nothing of a refused suggestion

    fuzz()
