"""JSON bodies the platform can always answer and store.

The standard library's parser recurses once per nesting level, so a 2 KB body of brackets raised
RecursionError (a 500); it reads a number too large for a float (1e999) as infinity, which no
JSONField can store, and a "\\ud800" escape as a lone surrogate, which no response can encode
(500s from the database and the renderer). All three are a 400 here, on every API endpoint.
"""

import codecs
import json
import math
import re

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 20  # a submit batch is 3 deep; nothing the API takes is deeper than 5


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is too large")
    return value


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')


def _depth(text: str) -> int:
    """The deepest bracket nesting outside strings, checked before parsing so the parser never
    recurses deeper than MAX_DEPTH. Strings go first, in C: what is left is the structure."""
    depth = deepest = 0
    for char in _STRINGS.sub("", text):
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _check_strings(value) -> None:
    """A \\ud800 escape decodes to a lone surrogate, which no response or database can encode."""
    if isinstance(value, str):
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("a string holds malformed Unicode (a lone surrogate)") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key)
            _check_strings(item)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item)


def parse_json(text: str):
    """A JSON document, or ValueError saying what is wrong with it."""
    if _depth(text) > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    value = json.loads(text, parse_float=_finite, parse_constant=_refuse_constant)
    _check_strings(value)
    return value


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return parse_json(codecs.getreader(encoding)(stream).read())
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError and the checks above
            raise ParseError(f"JSON parse error - {exc}") from None
