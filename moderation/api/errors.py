import sys

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.views import defaults
from django.views.defaults import page_not_found
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    """DRF's handler, plus a 413 for bodies over the size limit (Django would answer 400) and a
    400 for a Django ValidationError raised by a service."""
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": "Request body too large."}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, DjangoValidationError):
        # A service refused the write: the same 400 with field messages as a serializer's.
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


class NoActiveModel(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "No model is active yet: train one and promote it."
    default_code = "no_active_model"


API_PREFIXES = ("/api/", "/v1alpha1/")


def _for_api(request) -> bool:
    return request.path.startswith(API_PREFIXES)


def not_found(request, exception=None):
    """Clients of the API get a JSON 404 like every other API error; people get the page."""
    if _for_api(request):
        return JsonResponse({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    return page_not_found(request, exception)


def bad_request(request, exception=None):
    """Django's own 400s (a forged Host header, a malformed request) in the API's shape."""
    if _for_api(request):
        return JsonResponse({"detail": "Bad request."}, status=status.HTTP_400_BAD_REQUEST)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if _for_api(request):
        return JsonResponse({"detail": "Permission denied."}, status=status.HTTP_403_FORBIDDEN)
    return defaults.permission_denied(request, exception)


DATABASE_DOWN = "Not saved: the database is unavailable. Nothing was changed; retry in a moment."


def server_error(request):
    """The last resort: an API client still gets JSON it can parse. A lost database (a restart,
    a full disk) is a 503 that says nothing was saved (every write is one transaction), so a
    client or a moderator retries instead of wondering."""
    exc = sys.exc_info()[1]
    if isinstance(exc, OperationalError | InterfaceError):
        if _for_api(request):
            response = JsonResponse({"detail": DATABASE_DOWN}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        else:
            response = HttpResponse(DATABASE_DOWN, status=503, content_type="text/plain; charset=utf-8")
            response["X-Error-Message"] = DATABASE_DOWN  # the workspace shows it beside a Retry button
        response["Retry-After"] = "5"
        return response
    if _for_api(request):
        return JsonResponse({"detail": "Server error."}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    return defaults.server_error(request)
