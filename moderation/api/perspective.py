"""A Perspective-compatible endpoint: a site leaving Perspective changes only its URL.

`POST /v1alpha1/comments:analyze?key=<ToxiScope API key>` takes Perspective's request
(`comment.text`, `requestedAttributes`, `languages`) and answers in its shape
(`attributeScores.<ATTR>.summaryScore.value`), errors included. As at Perspective, the
comment is kept unless the call says `doNotStore: true` (kept unrouted: the client moderates
it in its own tool). `POST /v1alpha1/comments:suggestscore` takes the client's moderators'
decisions as labels (Coral's "send feedback"). The discovery document lets Google's API
client library be pointed here by its `discoveryServiceUrl`.
"""

import json
import re

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from moderation.api.authentication import ApiKeyAuthentication, user_for_raw_key
from moderation.api.errors import NoActiveModel
from moderation.api.permissions import IsApiClient
from moderation.engine.analysis import comments_analyze
from moderation.engine.languages import detect_language
from moderation.engine.scoring import active_model
from moderation.services.client_feedback import comment_feedback_record, comment_store_analyzed
from moderation.text import base_language, is_blank, text_spans

# Perspective attribute -> ToxiScope label, where the two mean the same thing.
ATTRIBUTES = {
    "TOXICITY": "toxic",
    "SEVERE_TOXICITY": "severe_toxic",
    "PROFANITY": "obscene",
    "THREAT": "threat",
    "INSULT": "insult",
    "IDENTITY_ATTACK": "identity_hate",
}
SCORE_TYPE = "PROBABILITY"  # the one score type served (Perspective's default)
# About one model window of text (128 tokens): a longer sentence gets a span per piece.
SPAN_MAX_CHARS = 500
# The source (community) of a stored comment whose call named no communityId.
PERSPECTIVE_SOURCE = "perspective"
GRPC_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "INVALID_ARGUMENT",
    413: "INVALID_ARGUMENT",
    415: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    503: "UNAVAILABLE",
}


class PerspectiveError(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST


class QueryKeyAuthentication(BaseAuthentication):
    """Perspective's `?key=`; the key is a ToxiScope API key."""

    def authenticate(self, request):
        raw_key = request.query_params.get("key")
        return user_for_raw_key(request, raw_key) if raw_key else None

    def authenticate_header(self, request) -> str:
        # Makes DRF answer a bad key with 401, as Perspective does, rather than 403.
        return 'key realm="api"'


def error_body(code: int, message: str) -> dict:
    return {"error": {"code": code, "message": message, "status": GRPC_STATUS.get(code, "UNKNOWN")}}


def _message(detail) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{key}: {_message(value)}" for key, value in detail.items())
    if isinstance(detail, list):
        return " ".join(_message(value) for value in detail)
    return str(detail)


class _PerspectiveView(APIView):
    """Perspective's authentication (`?key=`) and error bodies, for each of its calls."""

    authentication_classes = [QueryKeyAuthentication, ApiKeyAuthentication]
    permission_classes = [IsAuthenticated, IsApiClient]
    schema = None  # Perspective's contract, documented by Perspective; not part of our OpenAPI

    def handle_exception(self, exc):
        if isinstance(exc, DjangoValidationError):  # a service's refusal, with its field
            exc = PerspectiveError(_message(exc.message_dict if hasattr(exc, "error_dict") else exc.messages))
        elif isinstance(exc, DjangoPermissionDenied):  # DRF's own conversion would drop the reason
            exc = exceptions.PermissionDenied(str(exc))
        response = super().handle_exception(exc)
        response.data = error_body(
            response.status_code,
            _message(response.data.get("detail", response.data) if isinstance(response.data, dict) else response.data),
        )
        return response


# The JSON type of each field Perspective's calls take: a field of another type (null included)
# is refused as Perspective refuses it, whichever call it is sent to.
FIELD_TYPES = {
    "comment": dict,
    "context": dict,
    "requestedAttributes": dict,
    "attributeScores": dict,
    "languages": list,
    "clientToken": str,
    "communityId": str,
    "sessionId": str,
    "doNotStore": bool,
    "spanAnnotations": bool,
}
JSON_TYPE_NAMES = {dict: "an object", list: "an array", str: "a string", bool: "true or false"}


def _body(request) -> dict:
    body = request.data
    if not isinstance(body, dict):
        raise PerspectiveError("Invalid JSON payload: expected an object.")
    for name, kind in FIELD_TYPES.items():
        if name in body and not isinstance(body[name], kind):
            raise PerspectiveError(f"Invalid value at '{name}': expected {JSON_TYPE_NAMES[kind]}")
    _context_entries(body)
    return body


def _comment_text(body: dict) -> str:
    comment = body.get("comment")
    text = comment.get("text") if isinstance(comment, dict) else None
    if not isinstance(text, str) or is_blank(text):
        raise PerspectiveError("Comment must be non-empty.")
    if len(text) > settings.TOXISCOPE_MAX_TEXT_CHARS:
        raise PerspectiveError("Comment text too long.")
    if "\x00" in text:
        raise PerspectiveError("Comment text must not contain NUL characters.")
    if comment.get("type", "PLAIN_TEXT") != "PLAIN_TEXT":  # any other value or type
        raise PerspectiveError("Currently, only 'PLAIN_TEXT' comments are supported")
    return text


# A language code as Perspective takes it: any letter case (stored as given, at most 12 long).
PERSPECTIVE_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?")


def _languages(body: dict, text: str) -> list[str]:
    """The call's languages: as sent, else the text's if detected with confidence, else none."""
    languages = body.get("languages") or []
    if not all(isinstance(lang, str) and PERSPECTIVE_LANGUAGE.fullmatch(lang) for lang in languages):
        raise PerspectiveError("languages must be a list of language codes such as en, de or pt-BR")
    if languages:
        return languages
    detected = detect_language(text)
    return [detected] if detected else []


def _served_language(languages: list[str], served: frozenset[str], attribute: str) -> str:
    """The first of `languages` the active version serves ("" when none was sent or detected);
    Perspective's error when it serves none of them."""
    for language in languages:
        if base_language(language) in served:
            return language
    if languages:
        raise PerspectiveError(f"Attribute {attribute} does not support request languages: {', '.join(languages)}")
    return ""


def _string(body: dict, name: str, limit: int) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise PerspectiveError(f"{name} must be a string of at most {limit} characters")
    return value or None


def _client_comment_id(body: dict) -> str | None:
    """The client's id for the comment: `clientToken`, else the comment id in Coral's context
    (`context.entries[].text`, a JSON object with `Coral_comment_id`)."""
    token = _string(body, "clientToken", 200)
    if token is not None:
        return token
    for entry in _context_entries(body):
        text = entry.get("text")
        try:
            fields = json.loads(text) if isinstance(text, str) else None
        except ValueError:
            continue
        coral_id = fields.get("Coral_comment_id") if isinstance(fields, dict) else None
        if isinstance(coral_id, str | int) and not isinstance(coral_id, bool) and 0 < len(str(coral_id)) <= 190:
            return f"coral:{coral_id}"
    return None


def _context_entries(body: dict) -> list:
    """Coral's `context.entries`: refused when not of Perspective's types, as Perspective does."""
    entries = body.get("context", {}).get("entries", [])
    if not isinstance(entries, list) or not all(
        isinstance(entry, dict) and isinstance(entry.get("text", ""), str) for entry in entries
    ):
        raise PerspectiveError("context must be an object whose entries are objects with a text")
    return entries


def _source(body: dict) -> str:
    return _string(body, "communityId", 100) or PERSPECTIVE_SOURCE


def _attributes(body: dict, field: str, missing: str, unknown: str) -> dict:
    """The call's attributes (`requestedAttributes`, `attributeScores`): a non-empty object
    keyed by Perspective's attribute names, in Perspective's words when it is not."""
    attributes = body.get(field)
    if not isinstance(attributes, dict) or not attributes:
        raise PerspectiveError(missing)
    for name in attributes:
        if name not in ATTRIBUTES:
            raise PerspectiveError(f"{unknown}: {name}")
    return attributes


def _span_scores(version, text: str, scores: dict) -> list[tuple[int, int, dict]]:
    """Perspective's spanScores: each sentence of the comment scored on its own (a sentence
    longer than about a model window, in window-sized pieces). A comment of one sentence is its
    own span, with the comment's score."""
    spans = text_spans(text, SPAN_MAX_CHARS)
    if len(spans) <= 1:
        return [(begin, end, scores) for begin, end in spans]
    parts = version.score([text[begin:end] for begin, end in spans])
    return [(begin, end, part) for (begin, end), part in zip(spans, parts, strict=True)]


class PerspectiveAnalyzeView(_PerspectiveView):
    def post(self, request):
        body = _body(request)
        text = _comment_text(body)
        requested = _attributes(
            body, "requestedAttributes", "Missing requested_attributes", "Unknown requested attribute"
        )
        for name, options in requested.items():
            if not isinstance(options, dict):
                raise PerspectiveError(f"requestedAttributes.{name} must be an object")
            threshold = options.get("scoreThreshold")
            if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int | float)):
                raise PerspectiveError(f"requestedAttributes.{name}.scoreThreshold must be a number")
            if options.get("scoreType", SCORE_TYPE) != SCORE_TYPE:
                raise PerspectiveError(f"requestedAttributes.{name}.scoreType: only {SCORE_TYPE} is supported")
        version = active_model.get()
        if version is None:
            raise NoActiveModel()
        # The languages the active version learnt from (ModelVersion.served_languages).
        served = version.version.served_languages
        languages = _languages(body, text)
        language = _served_language(languages, served, next(iter(requested)))
        do_not_store, spans = body.get("doNotStore", False), body.get("spanAnnotations", False)
        external_id, source = _client_comment_id(body), _source(body)
        analysis = comments_analyze(texts=[text], sources=[source], languages=[language])
        if analysis.version is None:  # retired in between
            raise NoActiveModel()
        scores = analysis.scores[0]
        if not do_not_store:  # Perspective's default: kept, for the feedback that may follow
            comment_store_analyzed(
                client=request.user,
                text=text,
                external_id=external_id,
                source=source,
                language=language,
                version_id=analysis.version.id,
                scores=scores,
            )
        span_scores = _span_scores(analysis.version, text, scores) if spans else []
        attribute_scores = {}
        for name, options in requested.items():
            value = scores[ATTRIBUTES[name]]
            threshold = options.get("scoreThreshold")
            if threshold is not None and value < threshold:
                continue  # Perspective omits attributes below the requested threshold
            attribute_scores[name] = {
                "spanScores": [
                    {"begin": begin, "end": end, "score": {"value": part[ATTRIBUTES[name]], "type": SCORE_TYPE}}
                    for begin, end, part in span_scores
                ],
                "summaryScore": {"value": value, "type": SCORE_TYPE},
            }
        # The languages scored in: as sent or detected, else the version's own. No
        # detectedLanguages: a language is only ever claimed where it was sent or detected.
        return Response(
            {
                "attributeScores": attribute_scores,
                "languages": languages or sorted(served),
                "clientToken": body.get("clientToken", ""),
            }
        )


class PerspectiveSuggestScoreView(_PerspectiveView):
    """`comments:suggestscore`: a person's label, from the client's own moderation tool. Each
    attribute maps to its label, a value of 0.5 or more meaning yes; labels not sent stay
    unknown (services.client_feedback)."""

    def post(self, request):
        body = _body(request)
        text = _comment_text(body)
        suggested = _attributes(body, "attributeScores", "Missing attribute_scores", "Unknown attribute")
        labels = {}
        for name, score in suggested.items():
            summary = score.get("summaryScore") if isinstance(score, dict) else None
            value = summary.get("value") if isinstance(summary, dict) else None
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise PerspectiveError(f"attributeScores.{name}.summaryScore.value must be a number from 0 to 1")
            labels[ATTRIBUTES[name]] = value >= 0.5
        # Any language: a person's labels in a language no version serves yet are how one
        # comes to serve it.
        languages = _languages(body, text)
        comment_feedback_record(
            api_key=request.auth,
            text=text,
            external_id=_client_comment_id(body),
            source=_source(body),
            labels=labels,
            language=languages[0] if languages else "",
        )
        return Response(
            {"attributeScores": suggested, "languages": languages, "clientToken": body.get("clientToken", "")}
        )


def discovery_document(request):
    """Enough of Perspective's discovery document for Google's API client to call us."""
    root = request.build_absolute_uri("/")
    return JsonResponse(
        {
            "kind": "discovery#restDescription",
            "discoveryVersion": "v1",
            "id": "commentanalyzer:v1alpha1",
            "name": "commentanalyzer",
            "version": "v1alpha1",
            "title": "ToxiScope (Perspective-compatible Comment Analyzer API)",
            "rootUrl": root,
            "servicePath": "",
            "baseUrl": root,
            "batchPath": "batch",
            "protocol": "rest",
            "parameters": {"key": {"type": "string", "location": "query", "description": "ToxiScope API key."}},
            "schemas": {
                "AnalyzeCommentRequest": {"id": "AnalyzeCommentRequest", "type": "object"},
                "AnalyzeCommentResponse": {"id": "AnalyzeCommentResponse", "type": "object"},
                "SuggestCommentScoreRequest": {"id": "SuggestCommentScoreRequest", "type": "object"},
                "SuggestCommentScoreResponse": {"id": "SuggestCommentScoreResponse", "type": "object"},
            },
            "resources": {
                "comments": {
                    "methods": {
                        "analyze": {
                            "id": "commentanalyzer.comments.analyze",
                            "path": "v1alpha1/comments:analyze",
                            "flatPath": "v1alpha1/comments:analyze",
                            "httpMethod": "POST",
                            "parameters": {},
                            "parameterOrder": [],
                            "request": {"$ref": "AnalyzeCommentRequest"},
                            "response": {"$ref": "AnalyzeCommentResponse"},
                        },
                        "suggestscore": {
                            "id": "commentanalyzer.comments.suggestscore",
                            "path": "v1alpha1/comments:suggestscore",
                            "flatPath": "v1alpha1/comments:suggestscore",
                            "httpMethod": "POST",
                            "parameters": {},
                            "parameterOrder": [],
                            "request": {"$ref": "SuggestCommentScoreRequest"},
                            "response": {"$ref": "SuggestCommentScoreResponse"},
                        },
                    }
                }
            },
        }
    )
