"""Every write to ToxiScope's tables goes through a function here: keyword-only, atomic."""

from moderation.services.api_keys import api_key_create, api_key_revoke
from moderation.services.audit import audit_event_record
from moderation.services.comments import SubmitResult, comment_submit, comments_submit_many
from moderation.services.imports import ImportSummary, comments_import

__all__ = [
    "ImportSummary",
    "SubmitResult",
    "api_key_create",
    "api_key_revoke",
    "audit_event_record",
    "comment_submit",
    "comments_import",
    "comments_submit_many",
]
