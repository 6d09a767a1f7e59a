from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
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


def server_error(request):
    """The last resort: an API client still gets JSON it can parse."""
    if _for_api(request):
        return JsonResponse({"detail": "Server error."}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    return defaults.server_error(request)
