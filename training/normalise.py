"""The text normaliser: what a model reads, for training and serving alike.

Users disguise words to slip past a filter ("f.u.c.k", "1d10t", "sh!t", Cyrillic look-alikes,
zero-width spaces). The normaliser undoes those disguises before a model reads the text. The
stored and shown text never changes: only the models' input does.

An artifact records the version it was trained with (config "training.normaliser"); a version's
rules never change once shipped, so an old artifact keeps scoring as it was trained. Version 0
is the identity (artifacts made before the normaliser).

`normalise_aligned` also returns, for each character of the result, the index of the original
character it came from, so that a span found in the normalised text (the window that drove a
score) is shown on the original.

Version 1, in order:
1. Unicode NFKC (fullwidth, ligatures, styled letters); format characters (zero-width spaces
   and joiners, soft hyphens, direction marks) removed; combining marks on a Latin letter
   ("s̶h̶i̶t̶", zalgo) dropped.
2. Homoglyphs folded to Latin by Unicode's confusables table (the `confusable_homoglyphs`
   package's copy): in a word that mixes Latin with look-alikes, or in a text mostly in Latin.
   Accented Latin letters (ä, é, ß) are never folded.
3. Single letters split by spaces, dots, dashes or underscores joined ("f u c k", "f.u.c.k").
4. Leetspeak folded inside words ("1d10t", "b1tch", "@ss"); a number is left alone ("2nd",
   "mp3", "covid19").
5. Masked words ("f**k", "sh*t", "f***ing") restored from a list of the words people mask.
6. Runs of three or more of one letter cut to two ("fuuuuck" → "fuuck").
"""

import json
import re
import unicodedata
from collections.abc import Callable
from functools import cache
from importlib import resources

VERSION = 1
VERSIONS = (0, 1)

# Characters that render as nothing; Cf is the Unicode category of format characters.
_INVISIBLE_EXTRA = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f")


@cache
def _confusables() -> dict[str, str]:
    """Each non-Latin character whose confusable prototype is one ASCII letter or digit → it."""
    data = json.loads(resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8"))
    table = {}
    for char, homoglyphs in data.items():
        if len(char) != 1 or char.isascii() or unicodedata.normalize("NFD", char)[0].isascii():
            continue  # accented Latin letters are letters of their own language, not disguises
        targets = [h["c"] for h in homoglyphs if len(h["c"]) == 1 and h["c"].isascii() and h["c"].isalnum()]
        if targets:
            table[char] = targets[0]
    return table


# Leetspeak characters and the letters they stand for.
LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g"}
LEET |= {"@": "a", "$": "s", "!": "i", "|": "l", "€": "e"}
# A word may open with one of these ("@ss", "$hit") and be folded though nothing inside it is.
LEAD_SYMBOLS = frozenset("@$")
_LEET_CLASS = re.escape("".join(LEET))
# A word of letters and leet characters with at least one of the latter (a word of letters only
# has nothing to fold: not matching it spares a call per word).
_TOKEN = re.compile(rf"(?<![A-Za-z{_LEET_CLASS}])(?=[A-Za-z{_LEET_CLASS}]*[{_LEET_CLASS}])[A-Za-z{_LEET_CLASS}]+")
_SPACED = re.compile(r"(?<![^\W_])[A-Za-z](?:(?: ?[.\-_] ?| )[A-Za-z]){2,}(?![^\W_])")
_SEPARATOR = re.compile(r"[ .\-_]")
_MASKED = re.compile(r"\b[A-Za-z]+[*#%]+[A-Za-z*#%]*|\b[A-Za-z][*#%]+\b")
_RUN = re.compile(r"([^\W\d_])\1{2,}")

# The words people mask or disguise (and a masked word is restored to): profanity, insults and
# slurs. Listed once, most frequent first: a mask that fits several takes the first.
MASKABLE = [
    "fuck",
    "fucking",
    "fucker",
    "fucked",
    "fucks",
    "shit",
    "shitty",
    "bitch",
    "bitches",
    "asshole",
    "ass",
    "cunt",
    "dick",
    "bastard",
    "whore",
    "slut",
    "cock",
    "pussy",
    "damn",
    "crap",
    "piss",
    "twat",
    "wanker",
    "prick",
    "douche",
    "idiot",
    "moron",
    "stupid",
    "retard",
    "retarded",
    "faggot",
    "fag",
    "nigger",
    "nigga",
    "kike",
    "spic",
    "chink",
    "dyke",
    "tranny",
    "motherfucker",
    "bullshit",
    "dumbass",
    "jackass",
    "scumbag",
    "loser",
    "kill",
    "die",
    "rape",
    "hell",
    "sucks",
    "suck",
]


class _Aligned:
    """A text and, for each of its characters, the index of the original character."""

    def __init__(self, text: str, origin: list[int]):
        self.text, self.origin = text, origin

    def sub(
        self, pattern: re.Pattern[str], replace: Callable[[re.Match[str]], list[tuple[str, int]] | None]
    ) -> "_Aligned":
        """Each match of `pattern` becomes `replace(match)`: a list of (character, index of
        the match's character it comes from), or None to leave the match as it is."""
        pieces, origin, last = [], [], 0
        for match in pattern.finditer(self.text):
            replacement = replace(match)
            if replacement is None:
                continue
            start = match.start()
            pieces.append(self.text[last:start])
            origin.extend(self.origin[last:start])
            for char, offset in replacement:
                pieces.append(char)
                origin.append(self.origin[start + offset])
            last = match.end()
        if not pieces:
            return self
        pieces.append(self.text[last:])
        origin.extend(self.origin[last:])
        return _Aligned("".join(pieces), origin)


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _clusters(text: str) -> _Aligned:
    """Step 1: NFKC per character with its combining marks, invisible characters removed.
    ASCII is its own NFKC and holds no mark or format character: only the runs of other
    characters (with the letter a run's first mark sits on) go cluster by cluster. One curly
    quote used to send a whole long comment through the loop."""
    pieces: list[str] = []
    origin: list[int] = []
    last = 0
    for run in _NON_ASCII.finditer(text):
        i, end = run.start(), run.end()
        if i > last and unicodedata.combining(text[i]):
            i -= 1  # the mark's base letter
        pieces.append(text[last:i])
        origin.extend(range(last, i))
        while i < end:
            normal, j = _cluster(text, i, end)
            pieces.append(normal)
            origin.extend([i] * len(normal))
            i = j
        last = end
    pieces.append(text[last:])
    origin.extend(range(last, len(text)))
    return _Aligned("".join(pieces), origin)


def _cluster(text: str, i: int, end: int) -> tuple[str, int]:
    """The character at `i` with the combining marks after it (before `end`), as step 1 reads
    it; and where the next cluster starts."""
    j = i + 1
    while j < end and unicodedata.combining(text[j]):
        j += 1
    cluster = text[i:j]
    if unicodedata.category(cluster[0]) == "Cf" or cluster[0] in _INVISIBLE_EXTRA:
        cluster = cluster[1:]  # its marks, if any, stay with the text before
    normal = unicodedata.normalize("NFKC", cluster)
    if normal[:1].isascii() and normal[:1].isalpha():
        normal = "".join(c for c in normal if not unicodedata.combining(c))
    return normal, j


def _fold_homoglyphs(aligned: _Aligned) -> _Aligned:
    """Step 2."""
    table = _confusables()
    text = aligned.text
    if not any(char in table for char in text):
        return aligned
    latin = sum(char.isascii() and char.isalpha() for char in text)
    other = sum(char.isalpha() and not char.isascii() for char in text)

    def fold(match: re.Match[str]) -> list[tuple[str, int]]:
        word = match.group()
        mixed = any(char.isascii() and char.isalpha() for char in word)
        if not mixed and latin <= other:
            return [(char, k) for k, char in enumerate(word)]  # a text in its own script
        return [(table.get(char, char), k) for k, char in enumerate(word)]

    return aligned.sub(re.compile(r"\w+"), fold)


def _join_spaced(match: re.Match[str]) -> list[tuple[str, int]]:
    return [(char, k) for k, char in enumerate(match.group()) if not _SEPARATOR.match(char)]


def _fold_leet(match: re.Match[str]) -> list[tuple[str, int]] | None:
    """Fold a word's leet characters that stand between letters (and those before its first
    letter, once one inside was folded); a word without an inner one is left as it is (None)."""
    word = match.group()
    letters = [k for k, char in enumerate(word) if char.isalpha()]
    if len(letters) < 2:
        return None
    inner = [k for k in range(letters[0] + 1, letters[-1]) if word[k] in LEET]
    if any(len(run) > 2 for run in re.findall(rf"[{_LEET_CLASS}]+", word[letters[0] : letters[-1]])):
        return None  # "wow!!!that": punctuation, not a disguised letter
    lead = [k for k in range(letters[0]) if word[k] in LEET]
    if not inner and not (lead and set(word[: letters[0]]) <= LEAD_SYMBOLS):
        return None  # "2nd", "4chan", "mp3", "|style": numbers and markup, not disguises
    keep = [(char, k) for k, char in enumerate(word)]
    for k in (*inner, *lead):
        keep[k] = (LEET[word[k]], k)
    return keep


@cache
def _maskable_by_length() -> dict[int, list[str]]:
    table: dict[int, list[str]] = {}
    for word in MASKABLE:
        table.setdefault(len(word), []).append(word)
    return table


def _unmask(match: re.Match[str]) -> list[tuple[str, int]]:
    word = match.group()
    pattern = re.compile("".join("[a-z]" if char in "*#%" else re.escape(char.lower()) for char in word))
    for candidate in _maskable_by_length().get(len(word), ()):
        if pattern.fullmatch(candidate):
            return [(char if word[k] in "*#%" else word[k], k) for k, char in enumerate(candidate)]
    return [(char, k) for k, char in enumerate(word)]


def _cut_run(match: re.Match[str]) -> list[tuple[str, int]]:
    return [(match.group(1), 0), (match.group(1), 1)]


def normalise_aligned(text: str, version: int = VERSION) -> tuple[str, list[int]]:
    """The normalised text, and for each of its characters the index in `text` it came from."""
    if version not in VERSIONS:
        raise ValueError(f"unknown normaliser version {version!r}; this release knows {VERSIONS}")
    if version == 0:
        return text, list(range(len(text)))
    aligned = _clusters(text) if not text.isascii() else _Aligned(text, list(range(len(text))))
    if not aligned.text.isascii():
        aligned = _fold_homoglyphs(aligned)
    aligned = aligned.sub(_SPACED, _join_spaced)
    aligned = aligned.sub(_TOKEN, _fold_leet)
    aligned = aligned.sub(_MASKED, _unmask)
    aligned = aligned.sub(_RUN, _cut_run)
    return aligned.text, aligned.origin


def normalise(text: str, version: int = VERSION) -> str:
    return normalise_aligned(text, version)[0]


def original_span(origin: list[int], start: int, end: int, original_length: int) -> tuple[int, int]:
    """A span of the normalised text as a span of the original (up to the end of the original
    character, a letter with its marks, that the span's last character came from)."""
    start, end = max(0, start), min(end, len(origin))
    if start >= end:
        return original_length, original_length
    last = origin[end - 1]
    following = next((o for o in origin[end:] if o > last), original_length)
    return origin[start], following


__all__ = ["MASKABLE", "VERSION", "VERSIONS", "normalise", "normalise_aligned", "original_span"]
