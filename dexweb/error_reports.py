"""Error reports (DEBUG pages and the emails sent to admins) without OAuth secrets.

Dexcom's callback carries the authorization `code` in its query string; Django's reporter shows
query strings verbatim (GET items, the request URL and META's QUERY_STRING), so we redact them.
"""

from django.http import HttpRequest
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from dexweb.logging_filters import REDACTED, redact_secrets

SECRET_QUERY_PARAMETERS = {"code", "state", "access_token", "refresh_token", "client_secret", "token"}


def _redacted_value(value):
    if isinstance(value, HttpRequest):
        return redact_secrets(repr(value))
    if isinstance(value, str):
        return redact_secrets(value)
    return value


def _redacted_items(query_dict):
    return [
        (key, REDACTED if key.lower() in SECRET_QUERY_PARAMETERS else value)
        for key, value in query_dict.items()
    ]


class RedactingReporterFilter(SafeExceptionReporterFilter):
    def get_traceback_frame_variables(self, request, tb_frame):
        # Frame locals include the request (its repr carries the query string) and the strings
        # a view built from it.
        return [
            (name, _redacted_value(value))
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]

    def get_safe_request_meta(self, request):
        meta = super().get_safe_request_meta(request)
        for key in ("QUERY_STRING", "REQUEST_URI", "RAW_URI", "HTTP_REFERER"):
            if isinstance(meta.get(key), str):
                meta[key] = redact_secrets(meta[key])
        return meta


class RedactingExceptionReporter(ExceptionReporter):
    def get_traceback_data(self):
        data = super().get_traceback_data()
        if self.request is not None:
            data["request_GET_items"] = _redacted_items(self.request.GET)
            data["request_insecure_uri"] = redact_secrets(data["request_insecure_uri"])
        return data
