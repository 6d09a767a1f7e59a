"""The three roles are Django groups, created by a data migration."""

ADMIN = "admin"
MODERATOR = "moderator"
API_CLIENT = "api_client"
ROLES = (ADMIN, MODERATOR, API_CLIENT)


def user_roles(user) -> frozenset[str]:
    """The user's groups, read once per user object: one query however many checks a request makes."""
    roles = user.__dict__.get("_roles")
    if roles is None:
        roles = user.__dict__["_roles"] = frozenset(user.groups.values_list("name", flat=True))
    return roles


def user_has_role(user, role: str) -> bool:
    if not user or not user.is_authenticated or not user.is_active:
        return False
    if role == ADMIN and user.is_superuser:
        return True
    return role in user_roles(user)
