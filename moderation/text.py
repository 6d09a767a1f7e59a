"""What counts as blank text, wherever a comment comes in (the API, Perspective, the importer)."""

import re

# Characters that show nothing: zero-width spaces and joiners, direction marks, the BOM, variation
# selectors, filler letters. A text of these and white space alone is blank.
INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0"
)
_BLANK = re.compile(rf"[\s{INVISIBLE}]*")


def is_blank(text: str) -> bool:
    return _BLANK.fullmatch(text) is not None


# A language code as clients and files give it: ISO 639 (en, de, gsw), with a region or
# script after a hyphen (pt-BR, zh-Hant).
LANGUAGE_CODE = r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?"
