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


def base_language(code: str) -> str:
    """`pt-BR` → `pt`: a version trained on Portuguese serves every region's."""
    return code.split("-", 1)[0].lower()


# Where a sentence ends: . ! ? or … (any run of them, closing quotes or brackets after), then
# white space; or a line break.
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*\s+|\n+")


def text_spans(text: str, max_chars: int) -> list[tuple[int, int]]:
    """The (begin, end) character offsets of `text`'s sentences, as Perspective's spanScores
    give them, each without its surrounding white space; a sentence longer than `max_chars`
    is cut at white space into pieces of about that length (a model window's worth)."""
    spans = []
    start = 0
    for end in [match.end() for match in _SENTENCE_END.finditer(text)] + [len(text)]:
        spans.extend(_pieces(text, start, end, max_chars))
        start = end
    return [(begin, end) for begin, end in spans if not is_blank(text[begin:end])]


def _pieces(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    pieces = []
    while end - start > max_chars:
        cut = text.rfind(" ", start + max_chars // 2, start + max_chars)
        cut = cut if cut > start else start + max_chars  # no space: cut in the word
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        pieces.append((start, end))
    return pieces
