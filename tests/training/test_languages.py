"""training/languages.py: a confident detection or none."""

from training.languages import detect_language, language_counts


def test_a_language_is_detected_only_when_the_text_says_enough():
    assert detect_language("Du bist so ein Idiot und alle wissen es") == "de"
    assert detect_language("Have a nice day everyone") == "en"
    for short in ("lol", "ok thanks", "great photos", "🙂"):
        assert detect_language(short) == ""  # too short to tell: unknown, never a guess


def test_language_counts_take_the_given_language_before_a_detection():
    texts = ["Du bist so ein Idiot und alle wissen es", "Have a nice day everyone", "lol", "whatever it says"]
    assert language_counts(texts, ["", "", "", "fr"]) == {"de": 1, "en": 1, "": 1, "fr": 1}
