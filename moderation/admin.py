from django.contrib import admin

from moderation import models


@admin.register(models.Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "display_order", "created_at"]
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
    readonly_fields = ["artifact_path", "data_hash", "labels", "thresholds", "metrics"]


@admin.register(models.TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "phase", "epoch", "step", "total_steps", "created_at", "finished_at"]
    list_filter = ["status", "kind"]


@admin.register(models.ReviewQueue)
class ReviewQueueAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "sla_minutes", "is_audit"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(models.RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["order", "label", "action", "threshold", "queue", "source", "is_active"]
    list_editable = ["is_active"]


@admin.register(models.AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "target_type", "target_id"]
    list_filter = ["action"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
