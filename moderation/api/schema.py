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
