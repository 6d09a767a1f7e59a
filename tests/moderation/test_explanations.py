"""Why an item is in review: the words and passages the work page highlights."""

import pytest

from moderation.selectors.explanations import LabelScore, driving_words
from tests.factories import ReviewItemFactory
from training import inference

pytestmark = pytest.mark.django_db


def test_the_driving_words_of_a_short_flagged_comment_are_found_by_occlusion(active_version, monkeypatch):
    # The tiny test model moves little for any one word: any drop counts here.
    monkeypatch.setattr(inference, "OCCLUSION_MIN_DROP", -1.0)
    text = "you are a worthless stupid idiot and everyone hates you"
    item = ReviewItemFactory(comment__text=text, comment__routed_by=active_version)
    flagged = [LabelScore("toxic", 0.9, 0.5, True), LabelScore("insult", 0.2, 0.5, False)]
    segments = driving_words(item, flagged, passage=None)
    assert "".join(segment.text for segment in segments) == text  # nothing lost or reordered
    driving = [segment.text for segment in segments if segment.driving]
    assert 1 <= len(driving) <= 3 and all(word in text.split() for word in driving)
    assert driving_words(item, [LabelScore("toxic", 0.2, 0.5, False)], passage=None) == []  # nothing flagged
    monkeypatch.setattr(inference, "OCCLUSION_MIN_DROP", 2.0)  # no word could move a score that much
    assert driving_words(item, flagged, passage=None) == []
