"""Every write to ToxiScope's tables goes through a function here: keyword-only, atomic."""

from moderation.services.api_keys import api_key_create, api_key_revoke
from moderation.services.audit import audit_event_record
from moderation.services.comments import SubmitResult, comments_submit_many
from moderation.services.imports import ImportSummary, comments_import
from moderation.services.model_versions import model_version_promote, model_version_promote_gated
from moderation.services.triage import comments_triage, comments_triage_waiting

__all__ = [
    "ImportSummary",
    "SubmitResult",
    "api_key_create",
    "api_key_revoke",
    "audit_event_record",
    "comments_import",
    "comments_submit_many",
    "comments_triage",
    "comments_triage_waiting",
    "model_version_promote",
    "model_version_promote_gated",
]
