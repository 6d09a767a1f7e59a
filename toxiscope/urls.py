from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from moderation.api.perspective import PerspectiveAnalyzeView, PerspectiveSuggestScoreView, discovery_document
from moderation.health import healthz, readyz
from moderation.metrics import metrics_view

# API paths answer JSON whatever fails, Django's own checks included; pages answer pages.
handler400 = "moderation.api.errors.bad_request"
handler403 = "moderation.api.errors.permission_denied"
handler404 = "moderation.api.errors.not_found"
handler500 = "moderation.api.errors.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("moderation.api.urls")),
    # Perspective-compatible: the same paths as Perspective's, so a client changes only its host.
    path("v1alpha1/comments:analyze", PerspectiveAnalyzeView.as_view(), name="perspective-analyze"),
    path("v1alpha1/comments:suggestscore", PerspectiveSuggestScoreView.as_view(), name="perspective-suggestscore"),
    path("$discovery/rest", discovery_document, name="perspective-discovery"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view: Swagger UI's start-up script is a file of its own, as the CSP wants.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="moderation/api/swagger_ui.html"),
        name="swagger-ui",
    ),
    # Browsers ask for /favicon.ico whatever a page links to.
    path("favicon.ico", RedirectView.as_view(url=static("moderation/favicon.svg"), permanent=True), name="favicon"),
    path("", include("moderation.web.urls")),
]
