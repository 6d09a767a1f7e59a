"""What a client's own moderation tool sends through the Perspective endpoint (Coral, say): the
comments it asks about, unless it says `doNotStore`, and its moderators' decisions
(`comments:suggestscore`), kept as labels of their own origin that training learns from.

Such a comment is moderated in the client's tool, not here: it is stored unrouted
(`Comment.moderated_here` false) and never reaches this platform's queues."""

import hashlib
from collections.abc import Mapping
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from moderation.models import ApiKey, Comment, Label, LabelAnnotation, Prediction
from moderation.services.audit import audit_event_record
from moderation.services.comments import comment_store_once

# A suggestion without an id finds the comment its client asked about by text, this recently.
TEXT_MATCH_DAYS = 7


def _find(*, client, text: str, external_id: str | None) -> Comment | None:
    """The client's comment by its external id; else the latest one it asked about with this
    text and no id of its own (which then takes `external_id`), whatever community it named
    (Coral names one only in its feedback)."""
    if external_id is not None:
        found = Comment.objects.filter(client=client, external_id=external_id).first()
        if found is not None:
            return found
    found = (
        Comment.objects.filter(
            client=client,
            text_sha256=_sha256(text),  # the index (comment_found_by_text) on this and the next two
            external_id__isnull=True,
            moderated_here=False,
            text=text,
            created_at__gte=timezone.now() - timedelta(days=TEXT_MATCH_DAYS),
        )
        .order_by("-pk")
        .first()
    )
    if found is not None and external_id is not None:
        found.external_id = external_id
        found.save(update_fields=["external_id"])
    return found


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _find_or_create(*, client, text: str, external_id: str | None, source: str, language: str) -> tuple[Comment, bool]:
    found = _find(client=client, text=text, external_id=external_id)
    if found is not None:
        return found, False
    item = {"text": text, "external_id": external_id, "source": source, "language": language, "moderated_here": False}
    if external_id is None:
        item["text_sha256"] = _sha256(text)
    stored = comment_store_once(client=client, item=item)
    return stored.comment, stored.created


@transaction.atomic
def comment_store_analyzed(
    *,
    client,
    text: str,
    external_id: str | None,
    source: str,
    language: str,
    version_id: int,
    scores: Mapping[str, float],
) -> Comment:
    """A comment the Perspective endpoint scored without `doNotStore`: stored with its scores,
    as a submit stores it, but unrouted (its client moderates it); a repeat is stored once."""
    comment, _ = _find_or_create(client=client, text=text, external_id=external_id, source=source, language=language)
    Prediction.objects.get_or_create(comment=comment, model_version_id=version_id, defaults={"scores": dict(scores)})
    return comment


@transaction.atomic
def comment_feedback_record(
    *,
    api_key: ApiKey,
    text: str,
    external_id: str | None,
    source: str,
    labels: Mapping[str, bool],
    language: str = "",
) -> Comment:
    """A client's moderators' decision on a comment (Perspective's suggestscore): each label a
    value of origin `client_feedback`, the last suggestion per comment and label winning,
    audited. The comment is found by the client's id for it, or by its text, or created.
    Refused whole (nothing stored) for a key whose feedback an admin switched off, or for a
    label this platform does not have."""
    if not ApiKey.objects.filter(pk=api_key.pk, accepts_feedback=True).exists():
        raise PermissionDenied("Feedback from this API key is switched off by this platform's admin.")
    label_ids = dict(Label.objects.filter(name__in=list(labels)).values_list("name", "pk"))
    missing = sorted(set(labels) - set(label_ids))
    if missing:
        raise ValidationError({"attributeScores": f"no such label here: {', '.join(missing)}"})
    client = api_key.user
    comment, created = _find_or_create(
        client=client, text=text, external_id=external_id, source=source, language=language
    )
    current = LabelAnnotation.objects.select_for_update().filter(
        comment=comment, origin=LabelAnnotation.Origin.CLIENT_FEEDBACK, label__name__in=list(labels)
    )
    before = {annotation.label.name: annotation.value for annotation in current.select_related("label")}
    for name, value in labels.items():
        LabelAnnotation.objects.update_or_create(
            comment=comment,
            label_id=label_ids[name],
            origin=LabelAnnotation.Origin.CLIENT_FEEDBACK,
            defaults={"value": value, "created_by": client},
        )
    audit_event_record(
        actor=client,
        action="comment.feedback",
        target=comment,
        before=None if created else before,
        after={"labels": dict(labels), "source": source, "api_key": api_key.prefix},
    )
    return comment
