"""Who may see a page, and how it was asked for."""

from functools import wraps
from urllib.parse import urlsplit

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.views import csrf

from moderation.roles import ADMIN, MODERATOR, user_has_role


def role_required(*roles: str):
    """Anonymous users go to the log-in page; a signed-in user without one of `roles` gets 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if not request.user.is_authenticated:
                if is_htmx(request):
                    # Logged out in another tab, or the session expired: a whole-page trip to the
                    # log-in page (not the page nested in the workspace), then back to the same
                    # queue and filter the browser shows.
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = redirect_to_login(_shown_path(request)).url
                    return response
                return redirect_to_login(request.get_full_path())
            if not any(user_has_role(request.user, role) for role in roles):
                raise PermissionDenied(f"This page is for: {', '.join(roles)}.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


moderator_required = role_required(MODERATOR, ADMIN)
admin_required = role_required(ADMIN)


def _shown_path(request) -> str:
    """The path and query of the page the browser shows (htmx sends it), if it is ours."""
    shown = urlsplit(request.headers.get("HX-Current-URL", ""))
    if shown.netloc == request.get_host() and shown.path.startswith("/"):
        return f"{shown.path}?{shown.query}" if shown.query else shown.path
    return request.get_full_path()


def is_htmx(request) -> bool:
    """An htmx request: answer with the fragment it swaps in, not the whole page."""
    return request.headers.get("HX-Request") == "true"


def parse_id(value: str | None) -> int | None:
    """A row id from a query or form value, or None. ASCII digits only ("²".isdigit() is true,
    and int() refuses it) and within a 64-bit key."""
    if value and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


SESSION_CHANGED = "Not saved: your session changed in another tab. Reload the page to continue."


def csrf_failure(request, reason: str = ""):
    """A form whose token is no longer valid (a log-out or log-in in another tab): the workspace
    says so beside the item, which stays, instead of swapping in Django's 403 page."""
    if is_htmx(request):
        response = HttpResponse(SESSION_CHANGED, status=403, content_type="text/plain; charset=utf-8")
        response["X-Error-Message"] = SESSION_CHANGED
        return response
    return csrf.csrf_failure(request, reason)
