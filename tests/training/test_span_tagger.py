import csv
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from training import span_tagger
from training.span_tagger import SpanTagger, build, character_f1, read_posts, word_documents

INSULTS = ("idiot", "moron", "loser", "clown")
FILLERS = ("you", "are", "a", "the", "edit", "page", "such", "today", "again", "this")


def _posts(count: int = 240) -> list[tuple[str, set[int]]]:
    """Posts whose annotators marked exactly the insult in each."""
    posts = []
    for i in range(count):
        insult = INSULTS[i % len(INSULTS)]
        before = " ".join(FILLERS[(i + k) % len(FILLERS)] for k in range(1 + i % 4))
        text = f"{before} {insult} {FILLERS[i % len(FILLERS)]}"
        start = len(before) + 1
        posts.append((text, set(range(start, start + len(insult)))))
    return posts


def test_character_f1_is_the_tasks_score():
    assert character_f1(set(), set()) == 1.0  # neither marks anything
    assert character_f1({1, 2}, set()) == 0.0
    assert character_f1(set(), {1, 2}) == 0.0
    assert character_f1({1, 2, 3, 4}, {3, 4}) == pytest.approx(2 * 0.5 * 1.0 / 1.5)


def test_each_word_is_read_with_its_neighbours():
    spans, documents = word_documents("You, IDIOT!")
    assert spans == [(0, 3), (5, 10)]
    assert span_tagger._context(documents[1]) == ["idiot", "L:you", "R:</s>", "B:you idiot", "A:idiot </s>"]
    assert word_documents("  ...  ") == ([], [])


def test_it_learns_which_words_people_mark_and_reads_them_in_new_posts():
    tagger = SpanTagger.fit(_posts(), regularisation=1.0, threshold=0.5)
    text = "what a clown you are"
    assert [text[start:end] for start, end in tagger.spans(text)] == ["clown"]
    # Character n-grams carry a word it never saw whole to the ones it did.
    assert [text[a:b] for text in ["such idiots today"] for a, b in tagger.spans(text)] == ["idiots"]
    assert tagger.spans("") == [] and tagger.spans("thanks for fixing it") == []


def test_build_chooses_on_held_back_posts_and_saves_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(span_tagger, "REGULARISATIONS", (1.0,))
    posts = _posts()
    tagger = build(posts)
    record = tagger.record
    assert record["posts"] == len(posts) and 0 < record["tune_posts"] < len(posts)
    assert record["threshold"] in span_tagger.THRESHOLDS and record["tune_f1"] > 0.9
    target = tmp_path / "spans"
    target.mkdir()
    (target / "stale").write_text("from before")
    tagger.save(target)
    assert sorted(p.name for p in target.iterdir()) == ["span_tagger.json", "tfidf.json", "tfidf.safetensors"]
    assert list(tmp_path.iterdir()) == [target]  # no staging folder left behind
    loaded = SpanTagger.load(target)
    assert loaded.record == record
    for text, _ in posts[:20]:
        assert loaded.spans(text) == tagger.spans(text)


def test_the_command_builds_from_a_semeval_file_and_refuses_a_bad_one(tmp_path, capsys):
    data = tmp_path / "spans.csv"
    with open(data, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["spans", "text"])
        writer.writerows([json.dumps(sorted(gold)), text] for text, gold in _posts(120))
    assert [text for text, _ in read_posts(data)] == [text for text, _ in _posts(120)]
    assert span_tagger.main(["--data", str(data), "--out", str(tmp_path / "out")]) == 0
    assert "120 posts" in capsys.readouterr().out and (tmp_path / "out" / "span_tagger.json").is_file()

    wrong = tmp_path / "wrong.csv"
    wrong.write_text("text\nhello\n")
    assert span_tagger.main(["--data", str(wrong), "--out", str(tmp_path / "never")]) == 2
    assert "cannot read" in capsys.readouterr().err and not (tmp_path / "never").exists()
    assert span_tagger.main(["--data", str(tmp_path / "absent.csv"), "--out", str(tmp_path / "never")]) == 2


def test_an_identity_word_is_never_marked_whatever_people_marked():
    # Annotators marked the identity word as often as the insult: the tagger learns it, and
    # still never marks it.
    posts = [(f"{word} idiot", set(range(len(f"{word} idiot")))) for word in ("gay", "muslim", "stupid")] * 40
    tagger = SpanTagger.fit(posts, regularisation=1.0, threshold=0.5)
    assert [text[a:b] for text in ["gay idiot"] for a, b in tagger.spans(text)] == ["idiot"]
    assert [text[a:b] for text in ["stupid idiot"] for a, b in tagger.spans(text)] == ["stupid", "idiot"]
    assert {"gay", "muslim", "muslims", "jews", "black", "trans"} <= span_tagger.IDENTITY_WORDS
    assert "people" not in span_tagger.IDENTITY_WORDS


@pytest.fixture(scope="module")
def tagger():
    return SpanTagger.fit(_posts(), regularisation=1.0, threshold=0.3)


WORDY = st.from_regex(r"(\w{1,12}[\s.,!?*'’-]{1,3}){0,30}", fullmatch=True)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(), max_size=300) | WORDY)
def test_any_text_gets_whole_words_in_order_and_never_an_error(tagger, text):
    spans = tagger.spans(text)
    assert spans == sorted(spans)
    words = {match.span() for match in span_tagger.WORD.finditer(text)}
    assert all(span in words for span in spans)
