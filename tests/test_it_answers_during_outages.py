"""While the database is down pages answer a plain 503 with Retry-After, never a traceback;
the 404 and 500 pages are the site's own and render without the database."""

import pytest
from django.db import OperationalError
from django.db import connection as db_connection
from django.test import Client

pytestmark = [pytest.mark.urls("tests.error_pages_urls"), pytest.mark.faults]


def _database_gone(execute, sql, params, many, context):
    raise OperationalError("could not connect to server: Connection refused")


@pytest.fixture
def no_leftover_wrappers():
    yield
    db_connection.execute_wrappers.clear()


def test_a_view_hitting_a_database_error_answers_503(client, db, settings):
    settings.DEBUG = True  # the middleware answers before Django's debug page would
    response = client.get("/test-database-down/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "temporarily unavailable" in response.content.decode()


def test_a_page_answers_503_with_retry_after_while_the_database_is_down(patient, settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    client.force_login(patient)
    with db_connection.execute_wrapper(_database_gone):
        response = client.get("/dexcom/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert "temporarily unavailable" in page and "Traceback" not in page
    assert "css/dexweb.css" in page


def test_a_database_error_after_the_view_also_answers_503(patient, settings, no_leftover_wrappers):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    client.force_login(patient)
    response = client.get("/test-session-after-outage/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "temporarily unavailable" in response.content.decode()


def test_the_404_page_is_the_sites_own(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page and "css/dexweb.css" in page


def test_the_500_page_is_the_sites_own(db, settings):
    settings.DEBUG = False
    response = Client(raise_request_exception=False).get("/test-boom/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page and "css/dexweb.css" in page and "a bug" not in page
