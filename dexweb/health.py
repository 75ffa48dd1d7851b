"""GET /healthz/: "ok" when this process can reach its database, for run_demo and compose.

A middleware, placed first, rather than a view: health checks come from inside the container or
from localhost with a Host header that is not in ALLOWED_HOSTS and over plain HTTP, which the host
validation and the HTTPS redirect further down would refuse.
"""

from django.db import DatabaseError, connection
from django.http import HttpResponse

HEALTH_PATH = "/healthz/"


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == HEALTH_PATH and request.method in ("GET", "HEAD"):
            return health_response()
        return self.get_response(request)


def health_response() -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")
