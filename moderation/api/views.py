from django.db.models import QuerySet
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from moderation import selectors, services
from moderation.api.permissions import IsApiClient
from moderation.api.serializers import (
    CommentSerializer,
    CommentSubmitBatchSerializer,
    CommentSubmitSerializer,
    SubmitResultSerializer,
)


class CommentListCreateView(generics.ListAPIView):
    """Submit one comment (an object) or up to the batch limit (a list); list your own comments."""

    permission_classes = [IsAuthenticated, IsApiClient]
    serializer_class = CommentSerializer

    def get_queryset(self) -> QuerySet:
        return selectors.comments_of_client(client=self.request.user)

    @extend_schema(
        request=PolymorphicProxySerializer(
            component_name="CommentSubmitOneOrMany",
            serializers=[CommentSubmitSerializer, CommentSubmitSerializer(many=True)],
            resource_type_field_name=None,
            many=False,
        ),
        responses={
            201: PolymorphicProxySerializer(
                component_name="SubmitResultOneOrMany",
                serializers=[SubmitResultSerializer, SubmitResultSerializer(many=True)],
                resource_type_field_name=None,
                many=False,
            )
        },
    )
    def post(self, request):
        many = isinstance(request.data, list)
        serializer = CommentSubmitBatchSerializer(data=request.data) if many else CommentSubmitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        items = serializer.validated_data if many else [serializer.validated_data]
        results = services.comments_submit_many(client=request.user, items=items)
        payload = SubmitResultSerializer(results, many=True).data
        any_created = any(result.created for result in results)
        return Response(
            payload if many else payload[0], status=status.HTTP_201_CREATED if any_created else status.HTTP_200_OK
        )


class CommentDetailView(generics.RetrieveAPIView):
    permission_classes = [IsAuthenticated, IsApiClient]
    serializer_class = CommentSerializer

    def get_queryset(self) -> QuerySet:
        return selectors.comments_of_client(client=self.request.user)
