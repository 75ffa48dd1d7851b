"""Failed logins are throttled (allauth) and locked out (django-axes) per address and IP."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse

from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def _log_in(client, email, password):
    return client.post(reverse("account_login"), {"login": email, "password": password})


@pytest.fixture
def axes_alone(settings):
    """allauth's own limit (5 failures per address in 5 minutes) would answer first; switch it
    off to watch axes (tested separately below)."""
    settings.ACCOUNT_RATE_LIMITS = False


def test_it_locks_an_address_out_after_repeated_failures(client, patient, axes_alone):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _log_in(client, patient.email, "wrong-password")
    attempt = AccessAttempt.objects.get()
    # The address typed in allauth's "login" field is what axes counts against.
    assert attempt.username == patient.email
    assert attempt.failures_since_start == settings.AXES_FAILURE_LIMIT
    response = _log_in(client, patient.email, DEMO_PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_counts_the_address_whatever_its_case(client, patient, axes_alone):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _log_in(client, patient.email.upper(), "wrong-password")
    assert _log_in(client, patient.email, DEMO_PASSWORD).status_code == 429


def test_it_does_not_lock_out_other_people_on_the_same_network(client, patient, other_patient, axes_alone):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _log_in(client, patient.email, "wrong-password")
    _log_in(client, other_patient.email, DEMO_PASSWORD)
    assert client.session["_auth_user_id"] == str(other_patient.pk)


def test_it_forgets_failures_after_a_success(client, patient):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _log_in(client, patient.email, "wrong-password")
    _log_in(client, patient.email, DEMO_PASSWORD)
    assert client.session["_auth_user_id"] == str(patient.pk)
    assert not AccessAttempt.objects.filter(failures_since_start__gt=0).exists()


def test_it_throttles_with_allauths_own_limits_too(client, patient, settings):
    settings.AXES_ENABLED = False
    for _ in range(5):
        _log_in(client, patient.email, "wrong-password")
    response = _log_in(client, patient.email, DEMO_PASSWORD)
    assert "_auth_user_id" not in client.session
    assert "Too many failed login attempts" in response.content.decode()


# --- behind a reverse proxy ----------------------------------------------------------------------
PROXY = "10.0.0.2"  # every request reaches the web server from the proxy's address
ATTACKER = "203.0.113.9"
VICTIM = "198.51.100.7"


def _log_in_from(client, email, password, *, remote_addr, forwarded_for=None):
    headers = {"REMOTE_ADDR": remote_addr}
    if forwarded_for:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client.post(reverse("account_login"), {"login": email, "password": password}, **headers)


def _assert_refused(response, client):
    # allauth's limit (a form error) or axes' lockout (429), whichever counts to five first.
    assert "_auth_user_id" not in client.session
    assert "Too many failed" in response.content.decode()


def test_behind_a_proxy_an_attackers_failures_do_not_lock_the_victim_out(client, patient, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _log_in_from(client, patient.email, "wrong-password", remote_addr=PROXY, forwarded_for=ATTACKER)
    locked = _log_in_from(client, patient.email, DEMO_PASSWORD, remote_addr=PROXY, forwarded_for=ATTACKER)
    _assert_refused(locked, client)  # the attacker is
    _log_in_from(client, patient.email, DEMO_PASSWORD, remote_addr=PROXY, forwarded_for=VICTIM)
    assert client.session["_auth_user_id"] == str(patient.pk)  # the victim is not
    assert AccessAttempt.objects.get().ip_address == ATTACKER


def test_failures_on_a_known_address_from_elsewhere_do_not_lock_its_owner_out(client, patient, settings):
    # No proxy: allauth's own limit per address typed must not be a denial of service either.
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _log_in_from(client, patient.email, "wrong-password", remote_addr=ATTACKER)
    _log_in_from(client, patient.email, DEMO_PASSWORD, remote_addr=VICTIM)
    assert client.session["_auth_user_id"] == str(patient.pk)


def test_without_a_trusted_proxy_a_forged_forwarded_for_is_ignored(client, patient, settings):
    assert settings.TRUSTED_PROXY_COUNT == 0
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        # A new forged address on every try would otherwise escape the lockout.
        _log_in_from(
            client, patient.email, "wrong-password", remote_addr=ATTACKER, forwarded_for=f"192.0.2.{attempt}"
        )
    assert AccessAttempt.objects.get().ip_address == ATTACKER
    locked = _log_in_from(client, patient.email, DEMO_PASSWORD, remote_addr=ATTACKER, forwarded_for=VICTIM)
    _assert_refused(locked, client)
