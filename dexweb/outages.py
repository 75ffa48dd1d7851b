"""While the database is down, pages answer a plain 503 "temporarily unavailable", not a 500.

A database error reaches a request two ways: raised by a view (caught by the middleware's
process_exception) or by a middleware, e.g. the session's saving a session (Django turns it into
a 500 and calls handler500, `server_error` below; a session that cannot be saved becomes a 400,
`bad_request`). All render static templates that touch
neither the database, the session nor request.user, and send Retry-After so clients and load
balancers come back instead of giving up.
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseServerError
from django.template.loader import render_to_string
from django.views import defaults

logger = logging.getLogger(__name__)

DATABASE_DOWN_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30


def unavailable_response() -> HttpResponse:
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseOutageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DATABASE_DOWN_ERRORS):
            return None
        # The class name only: a driver's message can quote SQL with a patient's values.
        logger.error(
            "Database unavailable for %s %s (%s)", request.method, request.path, type(exception).__name__
        )
        return unavailable_response()


def _caused_by_database(error: BaseException | None) -> bool:
    # Walk the chain: SessionMiddleware reports a failed save as SessionInterrupted (a 400)
    # raised while handling the OperationalError.
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, DATABASE_DOWN_ERRORS):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def server_error(request):
    """handler500: the 503 page when the database is what failed, else the site's 500 page."""
    if _caused_by_database(sys.exc_info()[1]):
        return unavailable_response()
    return HttpResponseServerError(render_to_string("500.html"))


def bad_request(request, exception):
    """handler400: a session that could not be saved because the database is down is a 503."""
    if _caused_by_database(exception):
        return unavailable_response()
    return defaults.bad_request(request, exception)
