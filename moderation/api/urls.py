from django.urls import path

from moderation.api import views

app_name = "api"

urlpatterns = [
    path("comments/", views.CommentListCreateView.as_view(), name="comments"),
    path("comments/<int:pk>/", views.CommentDetailView.as_view(), name="comment-detail"),
    path("analyze/", views.AnalyzeView.as_view(), name="analyze"),
]
