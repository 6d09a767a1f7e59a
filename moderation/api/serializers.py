import json

from django.conf import settings
from rest_framework import serializers

from moderation.models import Comment

MAX_METADATA_BYTES = 4096


class CommentSubmitSerializer(serializers.Serializer):
    text = serializers.CharField(trim_whitespace=False)
    external_id = serializers.CharField(max_length=200, required=False, allow_null=True)
    source = serializers.SlugField(max_length=100, required=False, default="default")
    author_id = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    metadata = serializers.DictField(required=False, default=dict)

    def validate_text(self, text: str) -> str:
        if not text.strip():
            raise serializers.ValidationError("This field may not be blank.")
        limit = settings.TOXISCOPE_MAX_TEXT_CHARS
        if len(text) > limit:
            raise serializers.ValidationError(f"Ensure this field has no more than {limit} characters.")
        return text

    def validate_metadata(self, metadata: dict) -> dict:
        if len(json.dumps(metadata)) > MAX_METADATA_BYTES:
            raise serializers.ValidationError(f"Metadata must serialise to at most {MAX_METADATA_BYTES} bytes.")
        return metadata


class CommentSubmitBatchSerializer(serializers.ListSerializer):
    child = CommentSubmitSerializer()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", settings.TOXISCOPE_MAX_BATCH)
        kwargs.setdefault("min_length", 1)
        super().__init__(*args, **kwargs)


class RouteSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["review", "auto_approve", "auto_reject"])
    queue = serializers.CharField(allow_null=True)
    reason = serializers.CharField()


class CommentSerializer(serializers.ModelSerializer):
    route = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields = ["id", "external_id", "source", "author_id", "text", "status", "created_at", "route"]
        read_only_fields = fields

    def get_route(self, comment: Comment) -> RouteSerializer:
        item = comment.review_items.select_related("queue").order_by("-created_at").first()
        if item is None:
            return None
        return RouteSerializer({"action": "review", "queue": item.queue.slug, "reason": item.reason}).data


class SubmitResultSerializer(serializers.Serializer):
    comment = CommentSerializer()
    created = serializers.BooleanField(help_text="False when this external_id was already stored (a retry).")
