"""Messages for people: a ValidationError as one line, for a CLI or a page."""

from django.core.exceptions import ValidationError


def validation_messages(exc: ValidationError) -> str:
    """One line for a CLI: `field: message; field: message`."""
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items())
    return " ".join(exc.messages)
