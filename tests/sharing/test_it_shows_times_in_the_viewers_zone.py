"""Times (issue 11): sharing, audit and share-code times in the viewer's local time, zone shown."""

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from apps.glucose.localtime import viewer_clock_text
from apps.sharing.models import AuditEntry, Share

pytestmark = pytest.mark.django_db
NOON_UTC = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _tokyo_patient(patient):
    patient.timezone = "Asia/Tokyo"
    patient.save()
    return patient


def test_it_writes_an_instant_on_the_viewers_clock_with_the_zone():
    from zoneinfo import ZoneInfo

    assert viewer_clock_text(NOON_UTC, ZoneInfo("America/New_York")) == "20 Nov 2026 07:00 EST"
    assert viewer_clock_text(NOON_UTC, ZoneInfo("Asia/Tokyo"), seconds=True) == "20 Nov 2026 21:00:00 JST"


def test_the_sharing_page_shows_share_times_in_the_viewers_zone(client, patient, clinician):
    _tokyo_patient(patient)
    Share.objects.create(
        patient=patient,
        clinician=clinician,
        created_at=NOON_UTC,
        expires_at=datetime(2026, 12, 31, 15, 30, tzinfo=UTC),
    )
    client.force_login(patient)
    html = client.get(reverse("sharing:sharing")).content.decode()
    assert "20 Nov 2026 21:00 JST" in html and "1 Jan 2027 00:30 JST" in html


def test_the_audit_log_shows_times_in_the_viewers_zone(client, patient, clinician):
    _tokyo_patient(patient)
    AuditEntry.objects.create(
        patient=patient,
        actor=clinician,
        actor_email=clinician.email,
        action="view",
        page="overview",
        at=NOON_UTC,
    )
    client.force_login(patient)
    html = client.get(reverse("sharing:audit_log")).content.decode()
    assert "20 Nov 2026 21:00:00 JST" in html and "(UTC)" not in html


def test_a_new_share_code_says_until_when_in_the_viewers_zone(client, patient):
    _tokyo_patient(patient)
    client.force_login(patient)
    html = client.post(reverse("sharing:share_code_create")).content.decode()
    assert re.search(r"until \d{1,2} \w{3} \d{4} \d\d:\d\d JST", html)
