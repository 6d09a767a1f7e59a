"""Why an item is in review: the words and passages the work page highlights."""

import pytest
from django.conf import settings

from moderation.engine.scoring import span_tagger
from moderation.selectors.explanations import LabelScore, driving_words
from tests.factories import ReviewItemFactory
from training import inference
from training.span_tagger import SpanTagger, offsets

pytestmark = pytest.mark.django_db

FLAGGED = [LabelScore("toxic", 0.9, 0.5, True), LabelScore("insult", 0.2, 0.5, False)]


def _driving(item) -> list[str]:
    segments = driving_words(item, FLAGGED, passage=None)
    assert "".join(segment.text for segment in segments) in ("", item.comment.text)  # nothing lost or reordered
    return [segment.text for segment in segments if segment.driving]


def test_the_words_a_person_would_mark_come_from_the_span_tagger(active_version):
    item = ReviewItemFactory(comment__text="you are a worthless stupid idiot", comment__routed_by=active_version)
    assert _driving(item) == ["worthless", "stupid", "idiot"]
    assert driving_words(item, [LabelScore("toxic", 0.2, 0.5, False)], passage=None) == []  # nothing flagged


@pytest.mark.parametrize("tagger", ["", "/nowhere/spans"], ids=["off", "unreadable"])
def test_without_a_tagger_the_driving_words_are_found_by_occlusion(active_version, monkeypatch, settings, tagger):
    settings.TOXISCOPE_SPAN_TAGGER = tagger
    assert span_tagger() is None
    # The tiny test model moves little for any one word: any drop counts here.
    monkeypatch.setattr(inference, "OCCLUSION_MIN_DROP", -1.0)
    text = "you are a worthless stupid idiot and everyone hates you"
    item = ReviewItemFactory(comment__text=text, comment__routed_by=active_version)
    driving = _driving(item)
    assert 1 <= len(driving) <= 2 and all(word in text.split() for word in driving)
    monkeypatch.setattr(inference, "OCCLUSION_MIN_DROP", 2.0)  # no word could move a score that much
    assert driving_words(item, FLAGGED, passage=None) == []


def test_a_comment_the_tagger_marks_nothing_in_gets_the_models_driving_words(active_version, monkeypatch):
    monkeypatch.setattr(inference, "OCCLUSION_MIN_DROP", -1.0)
    text = "the weather is lovely today"
    assert span_tagger().spans(text) == []
    item = ReviewItemFactory(comment__text=text, comment__routed_by=active_version)
    assert 1 <= len(_driving(item)) <= 2


def test_the_shipped_tagger_marks_insults_and_threats_not_identities():
    tagger = SpanTagger.load(settings.TOXISCOPE_SPAN_TAGGER)

    def marked(text: str) -> list[str]:
        return [text[start:end] for start, end in tagger.spans(text)]

    assert marked("You are a pathetic idiot.") == ["pathetic", "idiot"]
    assert "stupid" in marked("what a stupid thing to say")
    assert "kill" in marked("I will find you and kill you")
    assert marked("I am a gay man and a proud Muslim") == []
    assert marked("Thanks for fixing the citation on this page.") == []
    assert offsets(tagger.spans("shut up, moron")) >= set(range(9, 14))
