"""Edits to the configuration records that have no rules of their own beyond their model's
validation: labels, review queues, decision reasons, webhooks. Audited like every other
write; each refreshes the routing configuration (labels and queues shape routing)."""

from django.db import models, transaction
from django.forms.models import model_to_dict

from moderation.engine.config import routing_config
from moderation.services.audit import audit_event_record

# Fields kept out of the audit trail, by model: secrets.
SECRET_FIELDS = {"webhook": ("secret",)}


def record_action(record: models.Model, verb: str) -> str:
    """The audit action for `verb` on a record: `review_queue.update`, as a service names it."""
    return f"{_snake(record._meta.object_name)}.{verb}"


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _state(record: models.Model) -> dict:
    return model_to_dict(record, exclude=SECRET_FIELDS.get(_snake(record._meta.object_name), ()))


def record_save(*, record: models.Model, changed_by) -> models.Model:
    """Validate and save a new or changed record, with its state before and after. Validated
    before the transaction opens: a webhook's URL check resolves its host (a network call),
    which must not hold the database's write lock (SQLite has one for every writer)."""
    record.full_clean()
    return _record_write(record=record, changed_by=changed_by)


@transaction.atomic
def _record_write(*, record: models.Model, changed_by) -> models.Model:
    created = record._state.adding
    before = None if created else _state(type(record).objects.select_for_update().get(pk=record.pk))
    record.save()
    audit_event_record(
        actor=changed_by,
        action=record_action(record, "create" if created else "update"),
        target=record,
        before=before,
        after=_state(record),
    )
    transaction.on_commit(routing_config.invalidate)
    return record


@transaction.atomic
def record_delete(*, record: models.Model, changed_by) -> None:
    audit_event_record(actor=changed_by, action=record_action(record, "delete"), target=record, before=_state(record))
    record.delete()
    transaction.on_commit(routing_config.invalidate)
