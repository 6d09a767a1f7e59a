"""OpenAPI descriptions drf-spectacular cannot infer. Imported once, from AppConfig.ready."""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension

from moderation.api.authentication import KEYWORD


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "moderation.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": f"`{KEYWORD} <key>`; create a key with `manage.py create_api_key`.",
        }


ERROR_RESPONSES = {
    "400": "Invalid input: field names map to their messages (a batch: item index to messages).",
    "401": "No credentials, or a wrong or revoked API key.",
    "403": "Authenticated, but this role may not do this.",
    "404": "No such object (or not yours).",
    "413": "Request body over the size limit.",
    "415": "Unsupported content type: send JSON.",
    "429": "Rate limit reached: retry after the Retry-After header's seconds.",
    "503": "Not available right now (no active model).",
}


def document_error_responses(result, generator, request, public):
    """drf-spectacular documents the success responses; every operation can also answer these."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = {
        "type": "object",
        "additionalProperties": True,
        "description": "`detail` with a message, or field names with lists of messages.",
    }
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for code, description in ERROR_RESPONSES.items():
                operation.setdefault("responses", {}).setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                )
    return result


def bound_comment_batches(result, generator, request, public):
    """A submitted batch holds 1 to TOXISCOPE_MAX_BATCH comments; drf-spectacular does not carry
    a ListSerializer's bounds into the schema."""
    submit = result.get("components", {}).get("schemas", {}).get("CommentSubmitOneOrMany", {})
    for variant in submit.get("oneOf", []):
        if variant.get("type") == "array":
            variant.update(minItems=1, maxItems=settings.TOXISCOPE_MAX_BATCH)
    return result


def require_request_bodies(result, generator, request, public):
    """A POST or PUT without a body is refused (400): say so in the schema."""
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method in ("post", "put") and "requestBody" in operation:
                operation["requestBody"]["required"] = True
    return result


def refuse_unknown_fields(result, generator, request, public):
    """The serializers that refuse unknown fields (serializers.RefuseUnknownFields) say so in
    the schema: a client's generator, and the fuzzer, then know an extra field is an error."""
    from moderation.api.serializers import RefuseUnknownFields

    schemas = result.get("components", {}).get("schemas", {})
    for serializer in RefuseUnknownFields.__subclasses__():
        name = serializer.__name__.removesuffix("Serializer")
        for component in (name, f"Patched{name}"):
            if component in schemas:
                schemas[component]["additionalProperties"] = False
    return result


def _perspective_error() -> dict:
    return {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "status"],
                "properties": {
                    "code": {"type": "integer"},
                    "message": {"type": "string"},
                    "status": {"type": "string", "examples": ["INVALID_ARGUMENT"]},
                },
            }
        },
    }


def _perspective_operation(*, summary: str, description: str, request: str, response: str, example: dict) -> dict:
    from moderation.api.perspective import GRPC_STATUS

    return {
        "operationId": summary.split()[0].lower().replace(":", "_"),
        "summary": summary,
        "description": description,
        "tags": ["Perspective-compatible"],
        "parameters": [
            {
                "name": "key",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": "A ToxiScope API key, as Perspective's `key` (or send the Authorization header).",
            }
        ],
        "security": [{"ApiKey": []}, {}],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{request}"},
                    "examples": {"coral": {"value": example}},
                }
            },
        },
        "responses": {
            "200": {
                "description": "Perspective's answer.",
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{response}"}}},
            },
            **{
                str(code): {
                    "description": f"Perspective's error body ({name}).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PerspectiveError"}}},
                }
                for code, name in GRPC_STATUS.items()
            },
        },
    }


def document_perspective(result, generator, request, public):
    """The Perspective-compatible calls (moderation/api/perspective.py) in Perspective's own
    shapes: their views parse Perspective's bodies themselves, so the schema is written here."""
    from moderation.api.perspective import ATTRIBUTES, PERSPECTIVE_LANGUAGE
    from moderation.api.serializers import COMMENT_TEXT_SCHEMA, NO_NUL

    language = {"type": "string", "pattern": f"^{PERSPECTIVE_LANGUAGE.pattern}$"}
    attribute_names = {"type": "string", "enum": list(ATTRIBUTES)}
    text = {
        "type": "object",
        "required": ["text"],
        "properties": {"text": COMMENT_TEXT_SCHEMA, "type": {"type": "string", "enum": ["PLAIN_TEXT"]}},
    }
    common = {
        "comment": text,
        "languages": {"type": "array", "items": language, "examples": [["en"]]},
        "clientToken": {
            "type": "string",
            "maxLength": 200,
            "pattern": NO_NUL,
            "description": "The client's id for the comment.",
        },
        "communityId": {
            "type": "string",
            "maxLength": 100,
            "pattern": NO_NUL,
            "description": "Stored as the comment's source.",
        },
        "context": {
            "type": "object",
            "description": "Coral's context: `entries[].text` holds a JSON object with `Coral_comment_id`.",
        },
    }
    score = {
        "type": "object",
        "properties": {
            "value": {"type": "number", "minimum": 0, "maximum": 1},
            "type": {"type": "string", "enum": ["PROBABILITY"]},
        },
    }
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["PerspectiveError"] = _perspective_error()
    schemas["PerspectiveAnalyzeRequest"] = {
        "type": "object",
        "required": ["comment", "requestedAttributes"],
        "properties": {
            **common,
            "languages": {
                "type": "array",
                "items": language,
                "description": "Languages the active version serves (learnt from at least "
                "TOXISCOPE_LANGUAGE_MIN_COMMENTS labelled comments; its version page lists them): another gets "
                "Perspective's 400. Empty: the text's language is detected.",
                "examples": [["en"]],
            },
            "requestedAttributes": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": attribute_names,
                "additionalProperties": {
                    "type": "object",
                    "properties": {"scoreThreshold": {"type": "number"}},
                },
            },
            "doNotStore": {
                "type": "boolean",
                "description": "true: nothing is stored. Else (Perspective's default) the comment is stored, "
                "unrouted, under the client, so that its feedback finds it.",
            },
            "spanAnnotations": {"type": "boolean"},
        },
    }
    schemas["PerspectiveAnalyzeResponse"] = {
        "type": "object",
        "required": ["attributeScores", "languages"],
        "properties": {
            "attributeScores": {
                "type": "object",
                "propertyNames": attribute_names,
                "additionalProperties": {
                    "type": "object",
                    "properties": {"summaryScore": score, "spanScores": {"type": "array"}},
                },
            },
            "languages": {"type": "array", "items": {"type": "string"}},
            "clientToken": {"type": "string"},
        },
    }
    schemas["PerspectiveSuggestScoreRequest"] = {
        "type": "object",
        "required": ["comment", "attributeScores"],
        "properties": {
            **common,
            "attributeScores": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": attribute_names,
                "additionalProperties": {
                    "type": "object",
                    "required": ["summaryScore"],
                    "properties": {"summaryScore": {**score, "required": ["value"]}},
                },
                "description": "A person's label per attribute: a value of 0.5 or more is yes, less is no.",
            },
        },
    }
    schemas["PerspectiveSuggestScoreResponse"] = schemas["PerspectiveAnalyzeResponse"]
    paths = result.setdefault("paths", {})
    paths["/v1alpha1/comments:analyze"] = {
        "post": _perspective_operation(
            summary="comments:analyze, as Perspective",
            description="Perspective's analyze call: the same request, answer and errors. Perspective attributes "
            "map to labels: " + ", ".join(f"{name} → {label}" for name, label in ATTRIBUTES.items()) + ".",
            request="PerspectiveAnalyzeRequest",
            response="PerspectiveAnalyzeResponse",
            example={
                "comment": {"text": "Thanks for the write-up; the second chart helped a lot."},
                "doNotStore": True,
                "requestedAttributes": {"TOXICITY": {}},
                "languages": ["en"],
            },
        )
    }
    paths["/v1alpha1/comments:suggestscore"] = {
        "post": _perspective_operation(
            summary="comments:suggestscore, as Perspective",
            description="A client's moderator's decision as labels (Coral's \"send feedback\"), kept as client "
            "feedback for the next training run; an admin can switch it off per API key.",
            request="PerspectiveSuggestScoreRequest",
            response="PerspectiveSuggestScoreResponse",
            example={
                "comment": {"text": "You are all idiots"},
                "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}},
                "languages": ["en"],
                "communityId": "Coral:https://news.example",
                "clientToken": "comment:8f1c2d",
            },
        )
    }
    return result
