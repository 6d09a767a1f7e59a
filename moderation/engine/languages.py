"""A comment's language for routing: the client's, else training/languages.py's confident
detection at the deployment's TOXISCOPE_LANGUAGE_CONFIDENCE."""

from django.conf import settings

from training.languages import detect_language as detect


def detect_language(text: str) -> str:
    """`text`'s language code if detected confidently, else "" (unknown)."""
    return detect(text, settings.TOXISCOPE_LANGUAGE_CONFIDENCE)
