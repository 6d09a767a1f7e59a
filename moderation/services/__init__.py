"""Every write to ToxiScope's tables goes through a function here: keyword-only, atomic."""

from moderation.services.api_keys import api_key_create, api_key_revoke
from moderation.services.audit import audit_event_record
from moderation.services.comments import SubmitResult, comment_submit, comments_submit_many
from moderation.services.imports import ImportSummary, comments_import
from moderation.services.model_versions import model_version_promote
from moderation.services.routing import comments_route, comments_route_pending

__all__ = [
    "ImportSummary",
    "SubmitResult",
    "api_key_create",
    "api_key_revoke",
    "audit_event_record",
    "comment_submit",
    "comments_import",
    "comments_route",
    "comments_route_pending",
    "comments_submit_many",
    "model_version_promote",
]
