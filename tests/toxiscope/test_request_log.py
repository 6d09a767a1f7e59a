import json
import logging

import pytest
from django.test import Client

from toxiscope.request_log import JsonFormatter, request_id


@pytest.mark.django_db
def test_every_response_carries_a_request_id_and_keeps_the_callers():
    client = Client()
    made = client.get("/healthz")["X-Request-ID"]
    assert len(made) == 32
    assert client.get("/healthz", HTTP_X_REQUEST_ID="lb-123")["X-Request-ID"] == "lb-123"
    assert client.get("/healthz", HTTP_X_REQUEST_ID="x" * 500)["X-Request-ID"] != "x" * 500


def test_log_lines_are_json_with_the_request_id():
    token = request_id.set("abc")
    try:
        record = logging.LogRecord("moderation", logging.WARNING, __file__, 1, "scored %d", (3,), None)
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id.reset(token)
    assert line["message"] == "scored 3" and line["request_id"] == "abc" and line["level"] == "WARNING"
