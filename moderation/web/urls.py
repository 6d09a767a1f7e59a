from django.contrib.auth import views as auth_views
from django.urls import path

from moderation.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="moderation/web/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("review/", views.overview, name="overview"),
    path("review/history/", views.history, name="history"),
    path("review/activity/", views.activity, name="activity"),
    path("review/audit/", views.audit, name="audit"),
    path("review/undo/", views.undo, name="undo"),
    path("review/<slug:slug>/", views.queue_page, name="queue"),
    path("review/<slug:slug>/work/", views.work, name="work"),
    path("review/<slug:slug>/back/", views.back, name="back"),
    path("review/<slug:slug>/bulk/", views.bulk, name="bulk"),
    path("review/<slug:slug>/items/<int:item_id>/decide/", views.decide, name="decide"),
    path("review/<slug:slug>/items/<int:item_id>/skip/", views.skip, name="skip"),
]
