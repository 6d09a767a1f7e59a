"""Liveness and readiness for load balancers and orchestrators: no authentication, no secrets."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from moderation.engine.scoring import active_model
from moderation.models import ModelVersion
from toxiscope.celery import app


def healthz(request):
    """The process answers: nothing else is checked."""
    return JsonResponse({"status": "ok"})


def readyz(request):
    """Ready to serve: the database and the broker answer, and the active model (if any) is
    loaded. With no model active the platform still takes comments (people review them all)."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", reported as such
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        with app.connection_for_read(settings.CELERY_BROKER_URL) as broker:
            broker.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["broker"] = f"error: {type(exc).__name__}"
    checks["model"] = _model_check()
    ready = all(value == "ok" or value.startswith("ok:") or value == "none active" for value in checks.values())
    return JsonResponse({"status": "ready" if ready else "not ready", "checks": checks}, status=200 if ready else 503)


def _model_check() -> str:
    try:
        active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).values_list("name", flat=True).first()
    except Exception as exc:  # noqa: BLE001 - the database check reports the cause
        return f"error: {type(exc).__name__}"
    if active is None:
        return "none active"
    loaded = active_model.get()
    # A process still serving the previous version for a moment after a promotion is ready.
    return f"ok: {loaded.name}" if loaded is not None else f"error: active version {active} failed to load"
