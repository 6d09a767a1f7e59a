"""A Perspective-compatible endpoint: a site leaving Perspective changes only its URL.

`POST /v1alpha1/comments:analyze?key=<ToxiScope API key>` takes Perspective's request
(`comment.text`, `requestedAttributes`, `languages`) and answers in its shape
(`attributeScores.<ATTR>.summaryScore.value`), errors included. Nothing is stored, as with
Perspective's `doNotStore`. The discovery document lets Google's API client library be
pointed here by its `discoveryServiceUrl`.
"""

from django.conf import settings
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
from moderation.text import is_blank

# Perspective attribute -> ToxiScope label, where the two mean the same thing.
ATTRIBUTES = {
    "TOXICITY": "toxic",
    "SEVERE_TOXICITY": "severe_toxic",
    "PROFANITY": "obscene",
    "THREAT": "threat",
    "INSULT": "insult",
    "IDENTITY_ATTACK": "identity_hate",
}
SUPPORTED_LANGUAGES = {"en"}
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


class PerspectiveAnalyzeView(APIView):
    authentication_classes = [QueryKeyAuthentication, ApiKeyAuthentication]
    permission_classes = [IsAuthenticated, IsApiClient]
    schema = None  # Perspective's contract, documented by Perspective; not part of our OpenAPI

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        response.data = error_body(
            response.status_code,
            _message(response.data.get("detail", response.data) if isinstance(response.data, dict) else response.data),
        )
        return response

    def post(self, request):
        body = request.data
        if not isinstance(body, dict):
            raise PerspectiveError("Invalid JSON payload: expected an object.")
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
        requested = body.get("requestedAttributes")
        if not isinstance(requested, dict) or not requested:
            raise PerspectiveError("Missing requested_attributes")
        for name, options in requested.items():
            if name not in ATTRIBUTES:
                raise PerspectiveError(f"Unknown requested attribute: {name}")
            if not isinstance(options, dict):
                raise PerspectiveError(f"requestedAttributes.{name} must be an object")
            threshold = options.get("scoreThreshold")
            if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int | float)):
                raise PerspectiveError(f"requestedAttributes.{name}.scoreThreshold must be a number")
        languages = body.get("languages") or ["en"]
        if not isinstance(languages, list) or not all(isinstance(lang, str) for lang in languages):
            raise PerspectiveError("languages must be a list of language codes")
        if not SUPPORTED_LANGUAGES & {lang.lower().split("-")[0] for lang in languages}:
            raise PerspectiveError(
                f"Attribute {next(iter(requested))} does not support request languages: {', '.join(languages)}"
            )
        analysis = comments_analyze(texts=[text], sources=["default"])
        if analysis.version is None:
            raise NoActiveModel()
        scores = analysis.scores[0]
        attribute_scores = {}
        for name, options in requested.items():
            value = scores[ATTRIBUTES[name]]
            threshold = options.get("scoreThreshold")
            if threshold is not None and value < threshold:
                continue  # Perspective omits attributes below the requested threshold
            score = {"value": value, "type": "PROBABILITY"}
            attribute_scores[name] = {
                "spanScores": [{"begin": 0, "end": len(text), "score": score}] if body.get("spanAnnotations") else [],
                "summaryScore": score,
            }
        return Response(
            {
                "attributeScores": attribute_scores,
                "languages": languages,
                "detectedLanguages": ["en"],
                "clientToken": body.get("clientToken", ""),
            }
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
                        }
                    }
                }
            },
        }
    )
