"""The emulator's control pages are for staff; its OAuth pages and data API are open, as at Dexcom.
Installed and routed only when EMULATOR_ENABLED (production refuses it: tests/test_it_settings.py).
"""

import pytest
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.test import Client
from django.urls import reverse

from tests.sandbox.conftest import CLIENT_ID, REDIRECT_URI
from tests.test_it_settings import run_python

CONTROL_PAGES = ["sandbox:index", "sandbox:grants", "sandbox:faults"]


@pytest.mark.django_db
@pytest.mark.parametrize("page", CONTROL_PAGES)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_visitor_or_a_patient_is_sent_to_sign_in_as_staff(page, method, make_user):
    visitor, patient = Client(), Client()
    patient.force_login(make_user("patient@example.com", "patient"))
    for client in (visitor, patient):
        response = getattr(client, method)(reverse(page), {"action": "clear"})
        assert response.status_code == 302, (page, response.status_code)
        assert response["Location"].startswith(reverse("admin:login"))
        assert f"{REDIRECT_FIELD_NAME}=" in response["Location"]


@pytest.mark.django_db
def test_a_visitor_still_reaches_the_consent_page_and_the_token_endpoint():
    visitor = Client()
    consent = visitor.get(
        reverse("sandbox:login"),
        {
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": "offline_access",
            "state": "s1",
        },
    )
    assert consent.status_code == 200 and "Authorize" in consent.content.decode()
    token = visitor.post(
        reverse("sandbox:token"),
        {
            "grant_type": "refresh_token",
            "refresh_token": "x",
            "client_id": CLIENT_ID,
            "client_secret": "wrong",
        },
    )
    assert token.status_code == 401  # an OAuth answer, not a sign-in redirect


INSTALLED_AND_ROUTED = (
    "import django; django.setup(); from django.apps import apps; from django.urls import resolve, Resolver404\n"
    "try:\n    resolve('/emulator/v3/oauth2/login'); routed = True\nexcept Resolver404:\n    routed = False\n"
    "print(apps.is_installed('apps.sandbox'), routed)\n"
)


@pytest.mark.parametrize(("enabled", "expected"), [("true", "True True"), ("false", "False False")])
def test_it_is_installed_and_routed_only_when_enabled(enabled, expected, tmp_path):
    env = {"DJANGO_SETTINGS_MODULE": "dexweb.settings", "EMULATOR_ENABLED": enabled}
    result = run_python(["-c", INSTALLED_AND_ROUTED], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
