import json

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from moderation.models import Comment, Label, ReviewQueue, RoutingRule

MAX_METADATA_BYTES = 4096


def validate_comment_text(text: str) -> str:
    if not text.strip():
        raise serializers.ValidationError("This field may not be blank.")
    limit = settings.TOXISCOPE_MAX_TEXT_CHARS
    if len(text) > limit:
        raise serializers.ValidationError(f"Ensure this field has no more than {limit} characters.")
    return text


class CommentSubmitSerializer(serializers.Serializer):
    text = serializers.CharField(trim_whitespace=False, validators=[validate_comment_text])
    external_id = serializers.CharField(max_length=200, required=False, allow_null=True)
    source = serializers.SlugField(max_length=100, required=False, default="default")
    author_id = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    metadata = serializers.DictField(required=False, default=dict)

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


CREATED_AT = serializers.DateTimeField()


class CommentSerializer(serializers.ModelSerializer):
    scored = serializers.SerializerMethodField(help_text="False until a model has scored the comment.")
    model_version = serializers.SlugRelatedField(source="routed_by", slug_field="name", read_only=True)
    scores = serializers.SerializerMethodField(help_text="Probability per label from `model_version`.")
    route = serializers.SerializerMethodField(help_text="Null until routed (an async submit not yet scored).")

    class Meta:
        model = Comment
        fields = [
            "id",
            "external_id",
            "source",
            "author_id",
            "text",
            "status",
            "created_at",
            "scored",
            "model_version",
            "scores",
            "flagged_labels",
            "route",
        ]
        read_only_fields = fields

    def get_scored(self, comment: Comment) -> bool:
        return comment.routed_by_id is not None

    def get_scores(self, comment: Comment) -> dict[str, float] | None:
        if comment.routed_by_id is None:
            return None
        if hasattr(comment, "routed_scores"):  # scored in this request
            return comment.routed_scores
        prediction = next((p for p in comment.predictions.all() if p.model_version_id == comment.routed_by_id), None)
        return prediction.scores if prediction else None

    @extend_schema_field(RouteSerializer(allow_null=True))
    def get_route(self, comment: Comment) -> dict | None:
        if not comment.route_action:
            return None
        queue = comment.route_queue.slug if comment.route_queue_id else None
        return {"action": comment.route_action, "queue": queue, "reason": comment.route_reason}

    def to_representation(self, comment: Comment) -> dict:
        # Built by hand from the fields declared above (which the OpenAPI schema documents): in a
        # 1,000-comment answer DRF's per-field machinery took longer than scoring them.
        return {
            "id": comment.pk,
            "external_id": comment.external_id,
            "source": comment.source,
            "author_id": comment.author_id,
            "text": comment.text,
            "status": comment.status,
            "created_at": CREATED_AT.to_representation(comment.created_at),
            "scored": self.get_scored(comment),
            "model_version": comment.routed_by.name if comment.routed_by_id else None,
            "scores": self.get_scores(comment),
            "flagged_labels": comment.flagged_labels,
            "route": self.get_route(comment),
        }


class CommentSubmittedSerializer(CommentSerializer):
    """Serialises a SubmitResult: the comment, and whether this submit created it."""

    created = serializers.BooleanField(help_text="False when this external_id was already stored (a retry).")

    class Meta(CommentSerializer.Meta):
        fields = [*CommentSerializer.Meta.fields, "created"]
        read_only_fields = fields

    def to_representation(self, result) -> dict:
        # `created` belongs to the submit, not the comment: a batch may name one comment twice
        # (a repeated external_id), created once and retried once.
        return {**super().to_representation(result.comment), "created": result.created}


class AnalyzeSerializer(serializers.Serializer):
    text = serializers.CharField(trim_whitespace=False, validators=[validate_comment_text])
    source = serializers.SlugField(max_length=100, required=False, default="default")


class AnalysisSerializer(serializers.Serializer):
    model_version = serializers.CharField()
    scores = serializers.DictField(child=serializers.FloatField())
    thresholds = serializers.DictField(child=serializers.FloatField(), help_text="The review threshold per label.")
    flagged_labels = serializers.ListField(child=serializers.CharField())
    route = RouteSerializer(help_text="Where the comment would go if it were submitted.")


class RoutingRuleSerializer(serializers.ModelSerializer):
    label = serializers.SlugRelatedField(
        slug_field="name", queryset=Label.objects.all(), allow_null=True, required=False, default=None
    )
    queue = serializers.SlugRelatedField(
        slug_field="slug", queryset=ReviewQueue.objects.all(), allow_null=True, required=False, default=None
    )
    threshold = serializers.FloatField(min_value=0.0, max_value=1.0, allow_null=True, required=False, default=None)

    class Meta:
        model = RoutingRule
        fields = ["id", "order", "label", "action", "threshold", "queue", "source", "is_active", "updated_at"]
        read_only_fields = ["id", "updated_at"]
