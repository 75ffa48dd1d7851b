"""The dashboard's sync status says when readings last arrived and what the last attempt did,
never "Last successful sync" (which reads as all is well while nothing arrives)."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.dexcom.models import DexcomConnection
from tests.glucose import factories

pytestmark = pytest.mark.django_db


def overview_text(client, patient) -> str:
    client.force_login(patient)
    response = client.get(reverse("dashboard:overview", args=[patient.pk]))
    assert response.status_code == 200
    return re.sub(r"[ \t\r\n]+", " ", response.content.decode())


def connection(patient, **fields):
    now = timezone.now()
    defaults = {
        "base_url": "http://127.0.0.1/emulator",
        "backfill_total_days": 90,
        "backfill_done_days": 90,
        "backfill_completed_at": now - timedelta(days=5),
    }
    return DexcomConnection.objects.create(user=patient, **{**defaults, **fields})


def test_a_failing_sync_says_when_data_last_arrived_and_when_it_last_tried(client, patient):
    now = timezone.now()
    factories.make_egvs(patient, now - timedelta(hours=6), [120] * 12)
    connection(
        patient,
        last_error="Dexcom's service is not responding properly at the moment.",
        last_sync_at=now - timedelta(minutes=4),
        last_data_at=now - timedelta(hours=5),
        last_sync_attempt_at=now - timedelta(minutes=2),
    )
    text = overview_text(client, patient)
    assert "Sync failing:" in text
    assert "Last successful sync" not in text
    assert "New readings last arrived 5\xa0hours ago." in text
    assert "Last sync attempt 2\xa0minutes ago, which did not succeed." in text


def test_syncs_that_bring_nothing_do_not_read_as_fresh_data(client, patient):
    now = timezone.now()
    factories.make_egvs(patient, now - timedelta(hours=8), [120] * 12)  # newest 7 h ago: stale
    connection(
        patient,
        last_sync_at=now - timedelta(minutes=5),
        last_data_at=now - timedelta(hours=7),
        last_sync_attempt_at=now - timedelta(minutes=5, seconds=2),
    )
    text = overview_text(client, patient)
    assert "newer data has not arrived yet" in text
    assert "New readings last arrived 7\xa0hours ago." in text
    assert "Last sync attempt 5\xa0minutes ago." in text
    assert "did not succeed" not in text


def test_no_readings_yet_says_when_it_last_tried(client, patient):
    now = timezone.now()
    connection(
        patient,
        last_sync_at=now - timedelta(minutes=3),
        last_sync_attempt_at=now - timedelta(minutes=3, seconds=1),
    )
    text = overview_text(client, patient)
    assert "Dexcom has not sent any readings for this account. Last sync attempt 3\xa0minutes ago." in text
    assert "last sync " not in text
