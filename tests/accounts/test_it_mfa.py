"""Clinicians and admins must use TOTP: set-up is forced, and login asks for the code."""

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from tests.conftest import DEMO_PASSWORD, TEST_TOTP_SECRET, totp_code

pytestmark = pytest.mark.django_db

SETUP = "/accounts/2fa/totp/activate/"


def _log_in(client, email):
    return client.post(reverse("account_login"), {"login": email, "password": DEMO_PASSWORD})


def test_it_sends_a_clinician_without_totp_to_setup_before_any_patient_data(
    client, make_user, patient, make_share
):
    doctor = make_user("doc@example.com", "clinician", with_totp=False)
    make_share(patient, clinician=doctor)
    response = _log_in(client, doctor.email)
    assert response.status_code == 302 and client.session.get("_auth_user_id") == str(doctor.pk)
    for url in [reverse("sharing:triage"), f"/patients/{patient.pk}/overview/", "/", "/admin/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(SETUP), url
    # The setup page is reachable at once: the password was given moments ago.
    assert client.get(SETUP).status_code == 200


def test_it_lets_the_clinician_in_once_totp_is_set_up(client, make_user, patient, make_share):
    from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY

    doctor = make_user("doc@example.com", "clinician", with_totp=False)
    make_share(patient, clinician=doctor)
    _log_in(client, doctor.email)
    page = client.get(SETUP)
    assert page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post(SETUP, {"code": totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=doctor, type="totp").exists()
    # allauth generates recovery codes along with the first authenticator.
    assert Authenticator.objects.filter(user=doctor, type="recovery_codes").exists()
    assert client.get(reverse("sharing:triage")).status_code == 200
    assert client.get(f"/patients/{patient.pk}/overview/").status_code == 200


def test_it_asks_a_clinician_with_totp_for_the_code_at_login(client, clinician):
    response = _log_in(client, clinician.email)
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session  # not signed in on the password alone
    assert client.get(reverse("sharing:triage")).status_code == 302
    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session
    right = client.post(reverse("mfa_authenticate"), {"code": totp_code(TEST_TOTP_SECRET)})
    assert right.status_code == 302
    assert client.session["_auth_user_id"] == str(clinician.pk)
    assert client.get(reverse("sharing:triage")).status_code == 200


@pytest.mark.parametrize("steps", [-1, 1])
def test_a_code_of_the_next_or_previous_step_signs_in(client, clinician, steps):
    """A phone some seconds off, or a code typed as it changes: one step either way is taken."""
    _log_in(client, clinician.email)
    client.post(reverse("mfa_authenticate"), {"code": totp_code(steps_ahead=steps)})
    assert client.session.get("_auth_user_id") == str(clinician.pk)


@pytest.mark.parametrize("steps", [-3, 3])
def test_a_code_further_off_is_refused(client, clinician, steps):
    _log_in(client, clinician.email)
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(steps_ahead=steps)})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_a_code_is_taken_only_once(client, clinician):
    code = totp_code()
    _log_in(client, clinician.email)
    client.post(reverse("mfa_authenticate"), {"code": code})
    assert client.session.get("_auth_user_id") == str(clinician.pk)
    client.logout()
    _log_in(client, clinician.email)
    replay = client.post(reverse("mfa_authenticate"), {"code": code})
    assert replay.status_code == 200 and "_auth_user_id" not in client.session


def test_it_accepts_a_recovery_code(client, clinician):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    codes = RecoveryCodes.activate(clinician).get_unused_codes()
    _log_in(client, clinician.email)
    client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert client.session["_auth_user_id"] == str(clinician.pk)


def test_it_forces_admins_too(client, make_user):
    admin = make_user("root@example.com", "admin", is_staff=True, is_superuser=True, with_totp=False)
    client.force_login(admin)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith(SETUP)


def test_it_does_not_force_patients(client, patient):
    _log_in(client, patient.email)
    assert client.session["_auth_user_id"] == str(patient.pk)
    assert client.get(reverse("sharing:sharing")).status_code == 200
