"""Request framing the WSGI stack cannot read, and the content security policy's reach."""

from csp.middleware import CSPMiddleware
from django.http import HttpResponse, JsonResponse

from moderation.api.errors import API_PREFIXES

MESSAGE = "Send the body with a Content-Length header: chunked request bodies are not accepted."


class RefuseChunkedBodyMiddleware:
    """Django reads exactly Content-Length bytes of a body; a chunked body has none, so it would
    be read as empty and answered with a misleading "no data" 400. Say what is wrong instead."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and request.META.get("CONTENT_LENGTH") in (None, "", "0"):
            if request.path.startswith(API_PREFIXES):
                return JsonResponse({"detail": MESSAGE}, status=411)
            return HttpResponse(MESSAGE, status=411, content_type="text/plain")
        return self.get_response(request)


class DocumentCSPMiddleware(CSPMiddleware):
    """django-csp's policy on what a browser renders as a document (pages, SVG plots). A JSON
    answer (the API's, the health checks') runs nothing a policy could govern, and building the
    policy was a quarter of `/healthz`'s time in the process (docs/benchmarks.md)."""

    def process_response(self, request, response):
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        return super().process_response(request, response)
