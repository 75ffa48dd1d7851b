import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_it_gives_clinicians_a_short_idle_timeout(client, clinician):
    client.force_login(clinician)
    client.get(reverse("sharing:triage"))
    assert client.session.get_expiry_age() == settings.CLINICIAN_SESSION_IDLE_SECONDS
    assert settings.CLINICIAN_SESSION_IDLE_SECONDS < settings.SESSION_COOKIE_AGE


def test_it_leaves_patients_on_the_default_session_age(client, patient):
    client.force_login(patient)
    client.get(reverse("sharing:sharing"))
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE


def test_it_logs_an_idle_clinician_out(client, clinician, settings):
    settings.CLINICIAN_SESSION_IDLE_SECONDS = 1
    client.force_login(clinician)
    client.get(reverse("sharing:triage"))
    import time

    time.sleep(1.5)
    response = client.get(reverse("sharing:triage"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
