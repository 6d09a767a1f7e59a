from moderation.roles import ADMIN, user_has_role


def roles(request) -> dict:
    """What the navigation shows: admin-only links only to admins."""
    user = getattr(request, "user", None)
    return {"is_admin": user_has_role(user, ADMIN)}
