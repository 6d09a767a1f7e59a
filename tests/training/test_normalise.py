"""The normaliser: one test per rule, what it must leave alone, alignment, and never raising."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from training.normalise import VERSION, _cluster, _clusters, normalise, normalise_aligned, original_span


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 1. NFKC, format characters, combining marks on Latin letters
        ("ｆｕｃｋ", "fuck"),
        ("fu\u200bck", "fuck"),
        ("id\u00adi\u200dot", "idiot"),
        ("s̶h̶i̶t̶", "shit"),
        # 2. homoglyphs (Cyrillic, Greek) in Latin text
        ("yоu are an idiоt", "you are an idiot"),
        ("іdіоt", "idiot"),
        ("ѕtuріd", "stupid"),
        # 3. spaced, dotted, dashed, underscored letters
        ("f u c k you", "fuck you"),
        ("f.u.c.k off", "fuck off"),
        ("f-u-c-k", "fuck"),
        ("f_u_c_k", "fuck"),
        ("f . u . c . k", "fuck"),
        # 4. leetspeak inside words
        ("you 1d10t", "you idiot"),
        ("what a b1tch", "what a bitch"),
        ("sh!t happens", "shit happens"),
        ("a$$hole", "asshole"),
        ("@ss", "ass"),
        # 5. masked words
        ("f**k this", "fuck this"),
        ("f***ing moron", "fucking moron"),
        ("sh*t", "shit"),
        # 6. runs of three or more letters
        ("fuuuuuck", "fuuck"),
        ("sooooo stupid", "soo stupid"),
    ],
)
def test_each_rule_undoes_its_disguise(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I am a gay man",
        "2nd place, mp3, covid19, 4chan, $100",
        "Ich bin ein Äffchen aus der Straße, schöne Grüße",
        "привет мир, это русский текст",
        "Καλημέρα σε όλους",
        "e.g. and i.e. are abbreviations",
        "Hello!!! wow!!!that",
        "|style=width",
        "",
    ],
)
def test_ordinary_text_is_left_alone(text):
    assert normalise(text) == text


def test_version_zero_is_the_identity_and_unknown_versions_are_refused():
    assert normalise("f.u.c.k", 0) == "f.u.c.k"
    with pytest.raises(ValueError, match="normaliser version"):
        normalise("x", 99)


def test_a_span_of_the_normalised_text_maps_back_to_the_original():
    original = "you are an і d і о t!"
    read, origin = normalise_aligned(original)
    start = read.index("idiot")
    span = original_span(origin, start, start + len("idiot"), len(original))
    assert original[span[0] : span[1]] == "і d і о t"


def test_a_letter_with_its_marks_maps_back_whole():
    original = "s̶h̶i̶t̶ happens"
    read, origin = normalise_aligned(original)
    span = original_span(origin, 0, 4, len(original))
    assert original[span[0] : span[1]] == "s̶h̶i̶t̶"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_raises_and_aligns_every_character(text):
    read, origin = normalise_aligned(text, VERSION)
    assert len(origin) == len(read)
    assert all(0 <= index < len(text) for index in origin)
    assert origin == sorted(origin)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8")), st.integers(0, 50), st.integers(0, 50))
def test_any_span_maps_inside_the_original(text, start, end):
    read, origin = normalise_aligned(text)
    begin, finish = original_span(origin, start, end, len(text))
    assert 0 <= begin <= finish <= len(text)


def _per_character(text: str) -> tuple[str, list[int]]:
    """Step 1 by its definition: every cluster read in turn, ASCII included."""
    pieces, origin, i = [], [], 0
    while i < len(text):
        normal, j = _cluster(text, i, len(text))
        pieces.append(normal)
        origin.extend([i] * len(normal))
        i = j
    return "".join(pieces), origin


# ASCII mixed with what step 1 acts on: marks (after letters, spaces, or at the start), format
# characters, fullwidth letters, ligatures.
_MIXED = st.text(alphabet=st.sampled_from("ab. 1\u0301\u0336\u0327\u200b\u00ad\ufb01\uff41\u00e9\u2019\u034f"))


@settings(max_examples=500, deadline=None)
@given(st.one_of(_MIXED, st.text()))
def test_step_one_skips_ascii_yet_gives_what_each_character_would(text):
    clustered = _clusters(text)
    assert (clustered.text, clustered.origin) == _per_character(text)
