from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from moderation.web import model_views, views

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
    # Not /review/audit/: that is the blind audit queue's own page.
    path("review/precision/", views.precision, name="precision"),
    path("review/undo/", views.undo, name="undo"),
    path("review/<slug:slug>/", views.queue_page, name="queue"),
    path("review/<slug:slug>/work/", views.work, name="work"),
    path("review/<slug:slug>/back/", views.back, name="back"),
    path("review/<slug:slug>/bulk/", views.bulk, name="bulk"),
    path("review/<slug:slug>/filters/", views.filter_save, name="filter-save"),
    path("review/<slug:slug>/filters/<int:filter_id>/delete/", views.filter_delete, name="filter-delete"),
    path("review/<slug:slug>/items/<int:item_id>/decide/", views.decide, name="decide"),
    path("review/<slug:slug>/items/<int:item_id>/skip/", views.skip, name="skip"),
    path("review/<slug:slug>/items/<int:item_id>/author/", views.author_action, name="author-action"),
    path("models/", model_views.models_overview, name="models"),
    path("models/retrain/", model_views.retrain, name="retrain"),
    re_path(r"^models/export\.(?P<fmt>csv|jsonl)$", model_views.export, name="export"),
    path("models/import/", model_views.import_upload, name="import"),
    path("models/runs/<int:run_id>/", model_views.run_detail, name="run"),
    path("models/runs/<int:run_id>/cancel/", model_views.run_cancel, name="run-cancel"),
    path("models/<int:version_id>/", model_views.version_detail, name="version"),
    path("models/<int:version_id>/plots/<slug:kind>.svg", model_views.version_plot, name="version-plot"),
    path("models/charts/<slug:kind>.svg", model_views.models_chart, name="models-chart"),
    path("models/<int:version_id>/compare/", model_views.compare, name="compare"),
    path("models/<int:version_id>/promote/", model_views.promote, name="promote"),
    path("models/<int:version_id>/shadow/", model_views.shadow, name="shadow"),
    path("models/<int:version_id>/int8/", model_views.serving, {"switch": "int8"}, name="int8"),
    path("models/<int:version_id>/cascade/", model_views.serving, {"switch": "cascade"}, name="cascade"),
    path("models/<int:version_id>/simulate/", model_views.simulator, name="simulator"),
]
