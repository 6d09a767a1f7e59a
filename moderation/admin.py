"""The Django admin: every write it offers goes through a service, as from any other front end."""

import copy

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import construct_instance

from moderation import models
from moderation.messages import validation_messages
from moderation.services import api_key_revoke, model_version_promote_gated, records, routing_rules
from moderation.services.api_keys import api_key_feedback_set
from moderation.services.training import training_run_cancel


class RecordAdmin(admin.ModelAdmin):
    """Configuration records: every add, change and delete goes through services.records, so it
    is validated, audited and refreshes the routing configuration like any other write."""

    def save_model(self, request, obj, form, change):
        records.record_save(record=obj, changed_by=request.user)

    def delete_model(self, request, obj):
        records.record_delete(record=obj, changed_by=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the platform's own services (through the API, the workspace, the
    model pages or the actions offered here): the admin shows them and changes nothing."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def _each(modeladmin, request, queryset, service, done: str) -> None:
    """An action's service on every selected row, all or none."""

    @transaction.atomic
    def work():
        for row in queryset:
            service(row)

    _report(modeladmin, request, work, f"{queryset.count()} {done}.")


def _report(modeladmin, request, work, success: str) -> None:
    """Run a service for the admin; its ValidationError becomes a message, not a 500."""
    try:
        work()
    except ValidationError as exc:
        modeladmin.message_user(request, validation_messages(exc), messages.ERROR)
    else:
        modeladmin.message_user(request, success, messages.SUCCESS)


@admin.register(models.Label)
class LabelAdmin(RecordAdmin):
    list_display = ["name", "is_active", "severity", "display_order", "created_at"]
    list_editable = ["is_active", "display_order"]


@admin.register(models.ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    """Keys are created with `manage.py create_api_key` (the secret is shown once) and revoked here."""

    list_display = ["prefix", "name", "user", "created_at", "last_used_at", "revoked_at", "accepts_feedback"]
    actions = ["revoke", "accept_feedback", "refuse_feedback"]

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset):
        _each(self, request, queryset, lambda key: api_key_revoke(api_key=key, revoked_by=request.user), "revoked")

    @admin.action(description="Keep their clients' feedback (suggestscore) as labels")
    def accept_feedback(self, request, queryset):
        self._feedback(request, queryset, accepts=True)

    @admin.action(description="Refuse their clients' feedback (suggestscore)")
    def refuse_feedback(self, request, queryset):
        self._feedback(request, queryset, accepts=False)

    def _feedback(self, request, queryset, *, accepts: bool) -> None:
        def change(key):
            api_key_feedback_set(api_key=key, accepts=accepts, changed_by=request.user)

        _each(self, request, queryset, change, "accept feedback" if accepts else "refuse feedback")


@admin.register(models.Comment)
class CommentAdmin(ReadOnlyAdmin):
    list_display = ["id", "short_text", "source", "external_id", "status", "created_at"]
    list_filter = ["status", "source"]
    search_fields = ["text", "external_id", "author_id"]

    @admin.display(description="text")
    def short_text(self, comment: models.Comment) -> str:
        return comment.text if len(comment.text) <= 80 else f"{comment.text[:79]}…"


@admin.register(models.ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    """Promotion goes through the gate, as on the model pages; shadow mode is set there."""

    list_display = ["name", "status", "is_shadow", "base_model", "train_size", "created_at", "promoted_at"]
    list_filter = ["status"]
    actions = ["promote"]

    @admin.action(description="Promote the selected version (if it passes the promotion gate)")
    def promote(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version to promote.", messages.ERROR)
            return
        version = queryset.get()
        _report(
            self,
            request,
            lambda: model_version_promote_gated(version=version, promoted_by=request.user, compute=False),
            f"{version.name} is now active.",
        )


@admin.register(models.TrainingRun)
class TrainingRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "status", "phase", "epoch", "step", "total_steps", "created_at", "finished_at"]
    list_filter = ["status", "kind"]
    actions = ["cancel"]

    @admin.action(description="Cancel the selected runs (a running one stops at its next step)")
    def cancel(self, request, queryset):
        _each(self, request, queryset, lambda run: training_run_cancel(run=run, cancelled_by=request.user), "cancelled")


@admin.register(models.ReviewQueue)
class ReviewQueueAdmin(RecordAdmin):
    list_display = ["name", "slug", "sla_minutes", "is_audit", "is_retired"]
    prepopulated_fields = {"slug": ["name"]}


class RoutingRuleForm(forms.ModelForm):
    """Checked by the service's own rules, so the form shows what the service would refuse."""

    class Meta:
        model = models.RoutingRule
        fields = list(routing_rules.FIELDS)

    def clean(self):
        data = super().clean()
        candidate = construct_instance(self, copy.copy(self.instance), fields=routing_rules.FIELDS)
        try:
            routing_rules.routing_rule_validate(candidate)
        except ValidationError as exc:
            raise forms.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from None
        return data


@admin.register(models.RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    form = RoutingRuleForm
    list_display = ["order", "label", "action", "threshold", "margin", "queue", "source", "is_active"]

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in routing_rules.FIELDS if name in form.cleaned_data}
        if change:
            routing_rules.routing_rule_update(rule=obj, changed_by=request.user, **values)
        else:
            obj.pk = routing_rules.routing_rule_create(changed_by=request.user, **values).pk

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deactivate instead: review items cite their rule


@admin.register(models.AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor", "action", "target_type", "target_id"]
    list_filter = ["action"]


@admin.register(models.DecisionReason)
class DecisionReasonAdmin(RecordAdmin):
    list_display = ["text", "is_active", "display_order"]
    list_editable = ["is_active", "display_order"]


class WebhookDeliveryInline(admin.TabularInline):
    model = models.WebhookDelivery
    fields = [
        "created_at",
        "event",
        "decision",
        "author_action",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
    ]
    readonly_fields = fields
    ordering = ["-created_at"]
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True


@admin.register(models.Webhook)
class WebhookAdmin(RecordAdmin):
    """Register a URL; it receives each decision, signed with the secret shown here."""

    list_display = ["name", "url", "is_active", "created_at"]
    inlines = [WebhookDeliveryInline]


@admin.register(models.DriftSnapshot)
class DriftSnapshotAdmin(ReadOnlyAdmin):
    """What the periodic drift task measured each day (the models page shows the last two weeks)."""

    list_display = ["day", "model_version", "comments", "length_psi", "alarms", "alarm_sent_at"]
    list_filter = ["model_version"]


@admin.register(models.WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """The delivery log: every event, its attempts and the latest outcome."""

    list_display = ["created_at", "webhook", "event", "decision", "status", "attempts", "last_status_code"]
    list_filter = ["status", "event", "webhook"]


@admin.register(models.Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "moderator", "action", "comment", "reason", "is_bulk", "undone_at"]
    list_filter = ["action", "is_bulk"]
