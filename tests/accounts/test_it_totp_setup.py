"""Setting up the first second factor: only page navigations are sent there, the secret holds,
the password is not asked twice, and admins and patients each land where they should."""

import time

import pytest
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.urls import reverse

from apps.accounts.mfa import SIGNED_IN_AT_SESSION_KEY
from tests.conftest import DEMO_PASSWORD, totp_code

pytestmark = pytest.mark.django_db

SETUP = "/accounts/2fa/totp/activate/"
NAVIGATION = {"HTTP_SEC_FETCH_MODE": "navigate", "HTTP_SEC_FETCH_DEST": "document"}


@pytest.fixture
def new_clinician(client, make_user):
    doctor = make_user("doc@example.com", "clinician", with_totp=False)
    client.post(reverse("account_login"), {"login": doctor.email, "password": DEMO_PASSWORD})
    return doctor


def test_only_a_page_navigation_is_sent_to_the_setup_page(client, new_clinician):
    assert client.get("/sharing/triage/", **NAVIGATION)["Location"].startswith(SETUP)
    image = client.get("/sharing/triage/", HTTP_SEC_FETCH_MODE="no-cors", HTTP_SEC_FETCH_DEST="image")
    assert image.status_code == 403
    fetch = client.get("/api/v1/", HTTP_SEC_FETCH_MODE="cors", HTTP_SEC_FETCH_DEST="empty")
    assert fetch.status_code == 403
    no_metadata_json = client.get("/sharing/triage/", HTTP_ACCEPT="application/json")
    assert no_metadata_json.status_code == 403


def test_the_favicon_is_served_to_a_user_without_a_second_factor(client, new_clinician):
    response = client.get("/favicon.ico", HTTP_SEC_FETCH_MODE="no-cors", HTTP_SEC_FETCH_DEST="image")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"


def test_the_secret_survives_stray_requests_until_activation(client, new_clinician):
    client.get(SETUP, **NAVIGATION)
    secret = client.session[SECRET_SESSION_KEY]
    client.get(SETUP, **NAVIGATION)  # a reload
    client.get("/favicon.ico")
    client.get("/sharing/triage/", HTTP_SEC_FETCH_MODE="no-cors", HTTP_SEC_FETCH_DEST="image")
    assert client.session[SECRET_SESSION_KEY] == secret
    page = client.get(SETUP, **NAVIGATION)
    assert secret in page.content.decode()  # the secret shown is the one kept
    assert client.post(SETUP, {"code": totp_code(secret)}).status_code == 302
    assert SECRET_SESSION_KEY not in client.session  # allauth drops it once activated


def test_the_password_is_asked_again_when_the_sign_in_is_old(client, new_clinician):
    session = client.session
    session[SIGNED_IN_AT_SESSION_KEY] = time.time() - 3600
    session.save()
    response = client.get(SETUP, **NAVIGATION)
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_reauthenticate"))


def test_the_password_is_asked_again_before_changing_an_existing_factor(client, clinician):
    # Signed in moments ago, but with a factor already: allauth's rule applies unchanged.
    client.force_login(clinician)
    response = client.get(reverse("mfa_generate_recovery_codes"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_reauthenticate"))


def test_an_admin_lands_on_a_page_that_leads_to_the_admin(client, admin_user):
    client.force_login(admin_user)
    page = client.get("/")
    assert page.status_code == 200
    assert 'href="/admin/"' in page.content.decode()
    assert "My glucose" not in page.content.decode()


def test_a_patient_opening_the_admin_gets_a_plain_404(client, patient):
    client.force_login(patient)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 404
    assert len(response.redirect_chain) <= 1
    assert client.get("/admin/accounts/user/", follow=True).status_code == 404


def test_an_anonymous_visitor_opening_the_admin_is_sent_to_sign_in(client):
    response = client.get("/admin/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith(reverse("account_login"))
