from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import model_to_dict

from moderation import models
from moderation.services import audit_event_record, model_version_promote
from moderation.services.routing_config import routing_config


class AuditedAdmin(admin.ModelAdmin):
    """Every change made here by a person is an AuditEvent, with the state before and after.
    Labels, queues and rules all shape routing: each change also refreshes its cache."""

    # Fields kept out of the audit trail (secrets).
    audit_exclude: tuple[str, ...] = ()

    def _state(self, obj) -> dict:
        return model_to_dict(obj, exclude=self.audit_exclude)

    def save_model(self, request, obj, form, change):
        before = self._state(type(obj).objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        audit_event_record(
            actor=request.user,
            action=f"{obj._meta.model_name}.{'update' if change else 'create'}",
            target=obj,
            before=before,
            after=self._state(obj),
        )
        transaction.on_commit(routing_config.invalidate)

    def delete_model(self, request, obj):
        audit_event_record(
            actor=request.user, action=f"{obj._meta.model_name}.delete", target=obj, before=self._state(obj)
        )
        super().delete_model(request, obj)
        transaction.on_commit(routing_config.invalidate)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(models.Label)
class LabelAdmin(AuditedAdmin):
    list_display = ["name", "is_active", "severity", "display_order", "created_at"]
    list_editable = ["is_active", "display_order"]


@admin.register(models.ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "name", "user", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "key_hash", "created_at", "last_used_at"]


@admin.register(models.Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["id", "source", "external_id", "status", "created_at"]
    list_filter = ["status", "source"]
    search_fields = ["text", "external_id", "author_id"]


@admin.register(models.ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "base_model", "train_size", "created_at", "promoted_at"]
    list_filter = ["status"]
    # Status changes only through the promote action: it keeps one version active and audits.
    readonly_fields = ["status", "artifact_path", "data_hash", "labels", "thresholds", "metrics", "promoted_at"]
    actions = ["promote"]

    @admin.action(description="Promote the selected version (make it the active one)")
    def promote(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version to promote.", messages.ERROR)
            return
        try:
            version = model_version_promote(version=queryset.get(), promoted_by=request.user)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return
        self.message_user(request, f"{version.name} is now active.", messages.SUCCESS)


@admin.register(models.TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "phase", "epoch", "step", "total_steps", "created_at", "finished_at"]
    list_filter = ["status", "kind"]


@admin.register(models.ReviewQueue)
class ReviewQueueAdmin(AuditedAdmin):
    list_display = ["name", "slug", "sla_minutes", "is_audit"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(models.RoutingRule)
class RoutingRuleAdmin(AuditedAdmin):
    list_display = ["order", "label", "action", "threshold", "queue", "source", "is_active"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deactivate instead: review items cite their rule


@admin.register(models.AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "target_type", "target_id"]
    list_filter = ["action"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(models.DecisionReason)
class DecisionReasonAdmin(AuditedAdmin):
    list_display = ["text", "is_active", "display_order"]
    list_editable = ["is_active", "display_order"]


class WebhookDeliveryInline(admin.TabularInline):
    model = models.WebhookDelivery
    fields = ["created_at", "event", "decision", "status", "attempts", "last_status_code", "last_error", "delivered_at"]
    readonly_fields = fields
    ordering = ["-created_at"]
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True


@admin.register(models.Webhook)
class WebhookAdmin(AuditedAdmin):
    """Register a URL; it receives each decision, signed with the secret shown here."""

    list_display = ["name", "url", "is_active", "created_at"]
    audit_exclude = ("secret",)
    inlines = [WebhookDeliveryInline]


@admin.register(models.WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: every event, its attempts and the latest outcome."""

    list_display = ["created_at", "webhook", "event", "decision", "status", "attempts", "last_status_code"]
    list_filter = ["status", "event", "webhook"]
    readonly_fields = [field.name for field in models.WebhookDelivery._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(models.Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = ["created_at", "moderator", "action", "comment", "reason", "is_bulk", "undone_at"]
    list_filter = ["action", "is_bulk"]
    readonly_fields = [field.name for field in models.Decision._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
