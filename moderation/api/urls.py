from django.urls import path

from moderation.api import views

app_name = "api"

urlpatterns = [
    path("comments/", views.CommentListCreateView.as_view(), name="comments"),
    path("comments/<int:pk>/", views.CommentDetailView.as_view(), name="comment-detail"),
    path("analyze/", views.AnalyzeView.as_view(), name="analyze"),
    path("routing-rules/", views.RoutingRuleListCreateView.as_view(), name="routing-rules"),
    path("routing-rules/<int:pk>/", views.RoutingRuleDetailView.as_view(), name="routing-rule-detail"),
]
