"""OpenAPI descriptions drf-spectacular cannot infer. Imported once, from AppConfig.ready."""

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
