"""One JSON object per log line, each carrying the id of the request it belongs to."""

import contextvars
import json
import logging
import re
import uuid

from gunicorn.glogging import Logger

request_id = contextvars.ContextVar("request_id", default="-")


class RequestIdMiddleware:
    """Takes the caller's X-Request-ID (from a load balancer, say) or makes one, logs under it
    and returns it, so a client's report can be matched to the server's lines."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        value = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        token = request_id.set(value)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response["X-Request-ID"] = value
        return response


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id.get(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


_QUERY_SECRETS = re.compile(r"(?i)((?:^|[?&;])(?:key|api_key|token)=)[^&;\s\"]*")


def redact_secrets(text: str) -> str:
    """A URL with its `?key=` (Perspective's way to pass an API key) replaced by [redacted]."""
    return _QUERY_SECRETS.sub(r"\1[redacted]", text)


class RedactingAccessLogger(Logger):
    """gunicorn's access log without the API keys that Perspective clients put in the URL."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        # Every text atom: the request line, the query, the referrer, environ and headers.
        return {name: redact_secrets(value) if isinstance(value, str) else value for name, value in atoms.items()}
