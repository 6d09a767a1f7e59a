from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from moderation import selectors, services
from moderation.api.errors import NoActiveModel
from moderation.api.permissions import IsAdminRole, IsApiClient
from moderation.api.serializers import (
    AnalysisSerializer,
    AnalyzeSerializer,
    CommentSerializer,
    CommentSubmitBatchSerializer,
    CommentSubmitSerializer,
    CommentSubmittedSerializer,
    RoutingRuleSerializer,
)
from moderation.engine.analysis import comments_analyze
from moderation.models import RoutingRule
from moderation.services import SubmitResult, routing_rules


def async_flag(request) -> bool:
    raw = request.query_params.get("async")
    if raw is None:
        return False
    try:
        return serializers.BooleanField().to_internal_value(raw)
    except serializers.ValidationError as exc:
        raise serializers.ValidationError({"async": exc.detail}) from None


class CommentListCreateView(generics.ListAPIView):
    """Submit one comment (an object) or a batch (a list); list your own comments.

    Small submits are scored and routed before the answer. A batch over the sync limits (256
    comments, or 200,000 characters in all), or any submit with `?async=1`, is stored at once
    and answered 202; a worker scores it, and
    `GET /api/v1/comments/{id}/` shows the scores and route once they exist.
    """

    permission_classes = [IsAuthenticated, IsApiClient]
    serializer_class = CommentSerializer

    def get_queryset(self) -> QuerySet:
        return selectors.comments_of_client(client=self.request.user)

    @extend_schema(
        parameters=[OpenApiParameter("async", OpenApiTypes.BOOL, description="score in the background (202)")],
        request=PolymorphicProxySerializer(
            component_name="CommentSubmitOneOrMany",
            serializers=[CommentSubmitSerializer, CommentSubmitBatchSerializer()],
            resource_type_field_name=None,
            many=False,
        ),
        responses={
            (code, "application/json"): PolymorphicProxySerializer(
                component_name="CommentSubmittedOneOrMany",
                serializers=[CommentSubmittedSerializer, CommentSubmittedSerializer(many=True)],
                resource_type_field_name=None,
                many=False,
            )
            for code in (200, 201, 202)
        },
    )
    def post(self, request):
        many = isinstance(request.data, list)
        serializer = (
            CommentSubmitBatchSerializer(data=request.data) if many else CommentSubmitSerializer(data=request.data)
        )
        serializer.is_valid(raise_exception=True)
        items = serializer.validated_data if many else [serializer.validated_data]
        defer = (
            async_flag(request)
            or len(items) > settings.TOXISCOPE_SYNC_BATCH_MAX
            or sum(len(item["text"]) for item in items) > settings.TOXISCOPE_SYNC_SCORING_CHARS
        )
        results = services.comments_submit_many(client=request.user, items=items, defer_scoring=defer)
        created = [r.comment for r in results if r.created]
        if defer and created:
            # Queued for a worker, or (broker down) scored already: the answer says which.
            routed = selectors.comments_routed(ids=[c.pk for c in created])
            results = [SubmitResult(routed.get(r.comment.pk, r.comment), r.created, r.scores) for r in results]
            code = status.HTTP_201_CREATED if len(routed) == len(created) else status.HTTP_202_ACCEPTED
        else:
            code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        payload = CommentSubmittedSerializer(results, many=True).data
        return Response(payload if many else payload[0], status=code)


class CommentDetailView(generics.RetrieveAPIView):
    permission_classes = [IsAuthenticated, IsApiClient]
    serializer_class = CommentSerializer

    def get_queryset(self) -> QuerySet:
        return selectors.comments_of_client(client=self.request.user)


class AnalyzeView(APIView):
    """Score a text and show where it would be routed, without storing anything."""

    permission_classes = [IsAuthenticated, IsApiClient]

    @extend_schema(request=AnalyzeSerializer, responses={200: AnalysisSerializer})
    def post(self, request):
        serializer = AnalyzeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        analysis = comments_analyze(texts=[data["text"]], sources=[data["source"]])
        if analysis.version is None:
            raise NoActiveModel()
        scores, decision = analysis.scores[0], analysis.decisions[0]
        return Response(
            AnalysisSerializer(
                {
                    "model_version": analysis.version.name,
                    "scores": scores,
                    "unreliable_labels": analysis.version.version.unreliable_labels,
                    "thresholds": decision.review_thresholds,
                    "flagged_labels": list(decision.flagged),
                    "route": {"action": decision.action, "queue": decision.queue, "reason": decision.reason},
                }
            ).data
        )


class RoutingRuleListCreateView(generics.ListCreateAPIView):
    """Admins: the routing rules, in evaluation order; create one."""

    permission_classes = [IsAuthenticated, IsAdminRole]
    serializer_class = RoutingRuleSerializer
    queryset = RoutingRule.objects.select_related("label", "queue").order_by("order", "id")

    def perform_create(self, serializer):
        serializer.instance = routing_rules.routing_rule_create(
            changed_by=self.request.user, **serializer.validated_data
        )


class RoutingRuleDetailView(generics.RetrieveUpdateDestroyAPIView):
    permission_classes = [IsAuthenticated, IsAdminRole]
    serializer_class = RoutingRuleSerializer
    queryset = RoutingRule.objects.select_related("label", "queue")

    def perform_update(self, serializer):
        serializer.instance = routing_rules.routing_rule_update(
            rule=serializer.instance, changed_by=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, rule):
        """DELETE deactivates the rule (it stays listed, with is_active false)."""
        routing_rules.routing_rule_deactivate(rule=rule, changed_by=self.request.user)
