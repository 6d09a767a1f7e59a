"""The three roles are Django groups, created by a data migration."""

ADMIN = "admin"
MODERATOR = "moderator"
API_CLIENT = "api_client"
ROLES = (ADMIN, MODERATOR, API_CLIENT)


def user_has_role(user, role: str) -> bool:
    if not user or not user.is_authenticated or not user.is_active:
        return False
    if role == ADMIN and user.is_superuser:
        return True
    return user.groups.filter(name=role).exists()
