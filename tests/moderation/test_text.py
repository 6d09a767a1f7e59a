"""moderation/text.py: blank text, and the spans a comment is scored in for Perspective."""

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from moderation.text import is_blank, text_spans


def pieces(text: str, max_chars: int = 500) -> list[str]:
    return [text[begin:end] for begin, end in text_spans(text, max_chars)]


def test_sentences_end_at_stops_and_line_breaks():
    text = 'You are an idiot. Go away!  "Really?" I said…\n\nNew line here'
    assert pieces(text) == ["You are an idiot.", "Go away!", '"Really?"', "I said…", "New line here"]
    assert pieces("3.5 is not a sentence end, nor is e.g.x") == ["3.5 is not a sentence end, nor is e.g.x"]


def test_a_long_sentence_is_cut_at_white_space_into_window_sized_pieces():
    text = "word " * 300
    cut = pieces(text, 400)
    assert len(cut) == 4 and all(len(piece) <= 400 for piece in cut)
    assert " ".join(cut).split() == text.split()  # nothing lost, no word split
    assert pieces("x" * 10, 4) == ["xxxx", "xxxx", "xx"]  # no space: cut in the word


def test_blank_text_has_no_spans():
    assert text_spans("", 10) == [] and text_spans(" \n\u200b ", 10) == []
    assert is_blank("\u200b\n") and not is_blank("a")


@given(st.text(max_size=300), st.integers(min_value=1, max_value=50))
def test_spans_are_ordered_disjoint_and_within_the_text(text, max_chars):
    spans = text_spans(text, max_chars)
    assert all(0 <= begin < end <= len(text) for begin, end in spans)
    assert all(end <= next_begin for (_, end), (next_begin, _) in pairwise(spans))
    assert all(end - begin <= max_chars for begin, end in spans)
