import sys

from django.test import RequestFactory
from django.views.debug import ExceptionReporter

from dexweb.error_reports import RedactingExceptionReporter, RedactingReporterFilter


def _report_for(path):
    request = RequestFactory().get(path)
    try:
        raise RuntimeError("boom in the Dexcom callback")
    except RuntimeError:
        exc_info = sys.exc_info()
    reporter = RedactingExceptionReporter(request, *exc_info)
    reporter.filter = RedactingReporterFilter()
    return reporter.get_traceback_text() + reporter.get_traceback_html()


def test_it_keeps_the_oauth_code_out_of_error_reports():
    report = _report_for("/accounts/dexcom/login/callback/?code=SECRET-CODE-123&state=STATE-456")
    assert "SECRET-CODE-123" not in report
    assert "boom in the Dexcom callback" in report


def test_django_alone_would_have_shown_it():
    # The guard above is needed: Django's own reporter prints query strings verbatim.
    request = RequestFactory().get("/cb/?code=SECRET-CODE-123")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        exc_info = sys.exc_info()
    assert "SECRET-CODE-123" in ExceptionReporter(request, *exc_info).get_traceback_text()
