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


def _session_writes(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in queries if "django_session" in q["sql"] and not q["sql"].startswith("SELECT")]


def test_a_page_view_does_not_write_the_session_row(client, clinician):
    client.force_login(clinician)
    url = reverse("sharing:triage")
    assert _session_writes(client, url)  # the first view starts the idle timeout: one write
    assert _session_writes(client, url) == []
    assert _session_writes(client, url) == []
    assert client.session.get_expiry_age() == settings.CLINICIAN_SESSION_IDLE_SECONDS


def test_it_pushes_the_idle_expiry_again_once_a_minute_has_passed(client, clinician, monkeypatch):
    import time

    from apps.accounts import middleware

    client.force_login(clinician)
    url = reverse("sharing:triage")
    _session_writes(client, url)
    started = time.time()
    monkeypatch.setattr(middleware.time, "time", lambda: started + 58)
    assert _session_writes(client, url) == []
    monkeypatch.setattr(middleware.time, "time", lambda: started + 61)
    assert _session_writes(client, url)  # pushed forward: the row is written
    assert client.session[middleware.IDLE_PUSHED_AT_KEY] == int(started + 61)
