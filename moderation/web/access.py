"""Who may see a page, and how it was asked for."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from moderation.roles import ADMIN, MODERATOR, user_has_role


def role_required(*roles: str):
    """Anonymous users go to the log-in page; a signed-in user without one of `roles` gets 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not any(user_has_role(request.user, role) for role in roles):
                raise PermissionDenied(f"This page is for: {', '.join(roles)}.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


moderator_required = role_required(MODERATOR, ADMIN)
admin_required = role_required(ADMIN)


def is_htmx(request) -> bool:
    """An htmx request: answer with the fragment it swaps in, not the whole page."""
    return request.headers.get("HX-Request") == "true"


def parse_id(value: str | None) -> int | None:
    """A row id from a query or form value, or None. ASCII digits only ("²".isdigit() is true,
    and int() refuses it) and within a 64-bit key."""
    if value and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None
