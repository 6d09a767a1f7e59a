from rest_framework.permissions import BasePermission

from moderation.roles import ADMIN, API_CLIENT, user_has_role


class IsApiClient(BasePermission):
    message = "Only API clients may use this endpoint."

    def has_permission(self, request, view) -> bool:
        return user_has_role(request.user, API_CLIENT)


class IsAdminRole(BasePermission):
    message = "Only admins may do this."

    def has_permission(self, request, view) -> bool:
        return user_has_role(request.user, ADMIN)
