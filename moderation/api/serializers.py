import difflib
from collections.abc import Mapping

from django.conf import settings
from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from moderation.models import Comment, Label, ReviewQueue, RoutingRule
from moderation.text import INVISIBLE, LANGUAGE_CODE, is_blank


def validate_comment_text(text: str) -> str:
    if is_blank(text):
        raise serializers.ValidationError("This field may not be blank.")
    limit = settings.TOXISCOPE_MAX_TEXT_CHARS
    if len(text) > limit:
        raise serializers.ValidationError(f"Ensure this field has no more than {limit} characters.")
    return text


class StrictStringMixin:
    """Strings only: DRF would turn 42 or 3.5 into "42" and "3.5", which the schema forbids."""

    default_error_messages = {"not_a_string": "Not a valid string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class StrictCharField(StrictStringMixin, serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # DRF refuses NUL already; the validator also puts the rule into the OpenAPI schema.
        self.validators.append(RegexValidator(r"^[^\x00]*$", "Null characters are not allowed."))


class StrictSlugField(StrictStringMixin, serializers.SlugField):
    pass


COMMENT_TEXT_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": settings.TOXISCOPE_MAX_TEXT_CHARS,
    # Some visible character, no NUL. \x1c-\x1f and \x85 are white space to Python (and so to
    # DRF's blank check), not to JSON Schema's \s: named here.
    "pattern": rf"^[^\x00]*[^\s\x00\x1c-\x1f\x85{INVISIBLE}][^\x00]*$",
    # What Swagger UI fills in, rather than random characters matching the pattern.
    "examples": ["Thanks for the write-up; the second chart helped a lot."],
}


@extend_schema_field(COMMENT_TEXT_SCHEMA)
class CommentTextField(StrictCharField):
    """Text with at least one visible character, at most TOXISCOPE_MAX_TEXT_CHARS long."""

    def __init__(self, **kwargs):
        super().__init__(trim_whitespace=False, validators=[validate_comment_text], **kwargs)


NO_NUL = "^[^\\u0000]*$"


@extend_schema_field(
    {
        "type": "object",
        "description": "Context for moderators (author name, thread, URL…): a flat object of scalars.",
        "maxProperties": 50,
        "propertyNames": {"minLength": 1, "maxLength": 100, "pattern": NO_NUL},
        "additionalProperties": {
            "anyOf": [
                {"type": "string", "maxLength": 1000, "pattern": NO_NUL},
                {"type": "number"},
                {"type": "boolean"},
                {"type": "null"},
            ],
        },
    }
)
class MetadataField(serializers.DictField):
    """What the schema above says, checked: PostgreSQL's JSON cannot hold NUL, and a lone
    surrogate is not UTF-8 at all."""

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        if len(data) > 50:
            raise serializers.ValidationError("At most 50 entries.")
        for key, value in data.items():
            if not 1 <= len(key) <= 100:
                raise serializers.ValidationError("Keys must be 1 to 100 characters.")
            if not (value is None or isinstance(value, bool | int | float | str)):
                raise serializers.ValidationError(f"{key!r}: values must be strings, numbers, booleans or null.")
            for text in (key, value) if isinstance(value, str) else (key,):
                if "\x00" in text:
                    raise serializers.ValidationError("Null characters are not allowed.")
                if isinstance(value, str) and len(value) > 1000:
                    raise serializers.ValidationError(f"{key!r}: at most 1000 characters.")
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError:
                    raise serializers.ValidationError("Surrogate characters are not allowed.") from None
        return data


class RefuseUnknownFields:
    """A field the serializer does not know is refused by name, with the field meant where the
    name is close to one: a misspelt `metdata` would otherwise be dropped and its data lost."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields), key=str)
            if unknown:
                raise serializers.ValidationError(
                    {str(name): [_unknown_field(str(name), self.fields)] for name in unknown}
                )
        return super().to_internal_value(data)


def _unknown_field(name: str, fields) -> str:
    close = difflib.get_close_matches(name, list(fields), n=1)
    return f"Unknown field.{f' Did you mean {close[0]!r}?' if close else ''} Fields: {', '.join(fields)}."


class CommentSubmitSerializer(RefuseUnknownFields, serializers.Serializer):
    text = CommentTextField()
    external_id = StrictCharField(min_length=1, max_length=200, required=False, allow_null=True)
    source = StrictSlugField(max_length=100, required=False, default="default")
    author_id = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    language = StrictCharField(
        max_length=16,
        required=False,
        allow_blank=True,
        default="",
        validators=[RegexValidator(rf"^{LANGUAGE_CODE}\Z", "A language code such as en, de or pt-BR.")],
        help_text="The comment's language, if the client knows it (en, de, pt-BR).",
    )
    metadata = MetadataField(
        required=False,
        default=dict,
        help_text="Context shown to moderators beside the comment on the work page (author name, thread, URL…).",
    )


class CommentSubmitBatchSerializer(serializers.ListSerializer):
    child = CommentSubmitSerializer()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", settings.TOXISCOPE_MAX_BATCH)
        kwargs.setdefault("min_length", 1)
        super().__init__(*args, **kwargs)


class RouteSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=RoutingRule.Action.choices)
    queue = serializers.CharField(allow_null=True)
    reason = serializers.CharField()


CREATED_AT = serializers.DateTimeField()


class CommentSerializer(serializers.ModelSerializer):
    scored = serializers.SerializerMethodField(help_text="False until a model has scored the comment.")
    model_version = serializers.SlugRelatedField(
        source="routed_by",
        slug_field="name",
        read_only=True,
        allow_null=True,
        help_text="The model version that scored it; null until scored.",
    )
    scores = serializers.SerializerMethodField(help_text="Probability per label from `model_version`.")
    unreliable_labels = serializers.SerializerMethodField(
        help_text="Labels `model_version` has too little evidence for: their scores are not to be trusted alone."
    )
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
            "unreliable_labels",
            "flagged_labels",
            "route",
        ]
        read_only_fields = fields

    def get_scored(self, comment: Comment) -> bool:
        return comment.routed_by_id is not None

    def get_scores(self, comment: Comment) -> dict[str, float] | None:
        if comment.routed_by_id is None:
            return None
        prediction = next((p for p in comment.predictions.all() if p.model_version_id == comment.routed_by_id), None)
        return prediction.scores if prediction else None

    def get_unreliable_labels(self, comment: Comment) -> list[str] | None:
        return comment.routed_by.unreliable_labels if comment.routed_by_id else None

    @extend_schema_field(RouteSerializer(allow_null=True))
    def get_route(self, comment: Comment) -> dict | None:
        if not comment.route_action:
            return None
        queue = comment.route_queue.slug if comment.route_queue_id else None
        return {"action": comment.route_action, "queue": queue, "reason": comment.route_reason}

    def to_representation(self, comment: Comment) -> dict:
        return self.represent(comment, self.get_scores(comment))

    def represent(self, comment: Comment, scores: dict[str, float] | None) -> dict:
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
            "scores": scores,
            "unreliable_labels": self.get_unreliable_labels(comment),
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
        # Scored by this submit: no need to look the prediction up.
        scores = result.scores if result.scores is not None else self.get_scores(result.comment)
        return {**self.represent(result.comment, scores), "created": result.created}


class AnalyzeSerializer(RefuseUnknownFields, serializers.Serializer):
    text = CommentTextField()
    source = StrictSlugField(max_length=100, required=False, default="default")


class AnalysisSerializer(serializers.Serializer):
    model_version = serializers.CharField()
    scores = serializers.DictField(child=serializers.FloatField())
    unreliable_labels = serializers.ListField(
        child=serializers.CharField(), help_text="Labels the model has too little evidence for."
    )
    thresholds = serializers.DictField(child=serializers.FloatField(), help_text="The review threshold per label.")
    flagged_labels = serializers.ListField(child=serializers.CharField())
    route = RouteSerializer(help_text="Where the comment would go if it were submitted.")

    def to_representation(self, analysis: Mapping) -> dict:
        # The view builds the analysis in the declared fields' types. Passing it through DRF's
        # fields meant deep-copying them per request: a sixth of analyze's time in the process.
        return {name: analysis[name] for name in self._declared_fields}


class RoutingRuleSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    label = serializers.SlugRelatedField(
        slug_field="name", queryset=Label.objects.all(), allow_null=True, required=False, default=None
    )
    queue = serializers.SlugRelatedField(
        slug_field="slug", queryset=ReviewQueue.objects.all(), allow_null=True, required=False, default=None
    )
    threshold = serializers.FloatField(min_value=0.0, max_value=1.0, allow_null=True, required=False, default=None)
    margin = serializers.FloatField(min_value=0.0, max_value=1.0, allow_null=True, required=False, default=None)
    # Strict: a number is refused, not stored as its digits.
    source = StrictCharField(max_length=100, required=False, allow_blank=True, default="")

    class Meta:
        model = RoutingRule
        fields = ["id", "order", "label", "action", "threshold", "margin", "queue", "source", "is_active", "updated_at"]
        read_only_fields = ["id", "updated_at"]
