"""A moderator's word about a comment's author, for the client site that owns its users."""

from django.core.exceptions import ValidationError
from django.db import transaction

from moderation.models import AuthorAction, Comment
from moderation.services.audit import audit_event_record
from moderation.services.webhooks import webhook_deliveries_create_for_author

EVENTS = {AuthorAction.Action.FLAG: "author.flagged", AuthorAction.Action.SUGGEST_BAN: "author.ban_suggested"}


@transaction.atomic
def author_action_record(*, comment: Comment, moderator, action: str, note: str = "") -> AuthorAction:
    """Flag the author of `comment`, or suggest a ban, to every webhook (signed, retried like
    decisions). The client site decides what to do: ToxiScope does not own its users."""
    if not comment.author_id:
        raise ValidationError("This comment came without an author id: there is nobody to flag.")
    if action not in EVENTS:
        raise ValidationError({"action": f"Choose one of: {', '.join(EVENTS)}."})
    author_action = AuthorAction.objects.create(
        comment=comment, author_id=comment.author_id, action=action, note=note.strip()[:500], moderator=moderator
    )
    audit_event_record(
        actor=moderator,
        action=f"author.{action}",
        target=comment,
        after={"author_id": comment.author_id, "note": author_action.note},
    )
    webhook_deliveries_create_for_author(author_action=author_action, event=EVENTS[action])
    return author_action
