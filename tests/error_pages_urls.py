"""The site's URLs plus views that fail on purpose, for tests/test_it_answers_during_outages.py."""

from django.db import OperationalError
from django.db import connection as db_connection
from django.http import HttpResponse
from django.urls import path

from dexweb.urls import urlpatterns as site_urlpatterns

handler500 = "dexweb.outages.server_error"
handler400 = "dexweb.outages.bad_request"


def _database_gone(execute, sql, params, many, context):
    raise OperationalError("server closed the connection unexpectedly")


def database_down_in_the_view(request):
    raise OperationalError("could not connect to server: Connection refused")


def boom(request):
    raise RuntimeError("a bug")


def session_saved_after_the_database_died(request):
    request.session["seen"] = True
    # From here on every query fails: SessionMiddleware's save, after the view, hits it.
    db_connection.execute_wrappers.append(_database_gone)
    return HttpResponse("ok")


urlpatterns = [
    path("test-boom/", boom),
    path("test-database-down/", database_down_in_the_view),
    path("test-session-after-outage/", session_saved_after_the_database_died),
    *site_urlpatterns,
]
