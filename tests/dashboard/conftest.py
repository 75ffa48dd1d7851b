from datetime import UTC, datetime, timedelta

import pytest

from apps.dexcom.models import DexcomConnection
from tests.glucose import factories

PAGES = ("overview", "trace", "agp", "alerts", "events", "devices", "export", "import")


def _connection(user, **fields):
    return DexcomConnection.objects.create(user=user, base_url="http://127.0.0.1/emulator", **fields)


@pytest.fixture
def patient_with_data(patient):
    return seed_patient_data(patient)


def seed_patient_data(patient):
    """15 days of readings up to an hour ago, events, alerts, a calibration and a device."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now - timedelta(days=15)
    values = [int(120 + 60 * ((i % 288) - 144) / 144) for i in range(15 * 288 - 12)]
    values[100:110] = [None] * 10  # a 50-minute gap
    values[300] = 39
    values[400] = 401
    factories.make_egvs(patient, start, values)
    factories.make_event(patient, now - timedelta(hours=5))
    factories.make_event(
        patient, now - timedelta(hours=6), "insulin", "4", unit="units", sub_type="fastActing"
    )
    factories.make_event(patient, now - timedelta(hours=7), "carbs", "99", status="deleted")
    factories.make_alert(patient, now - timedelta(hours=3), "high")
    factories.make_alert(patient, now - timedelta(days=2), "low")
    factories.make_calibration(patient, now - timedelta(hours=4))
    factories.make_device(patient)
    _connection(
        patient, last_sync_at=now, backfill_total_days=90, backfill_done_days=90, backfill_completed_at=now
    )
    return patient


@pytest.fixture
def patient_without_data(patient):
    _connection(patient, backfill_total_days=90, backfill_done_days=27)
    return patient


@pytest.fixture
def patient_with_broken_sync(patient):
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    factories.make_egvs(patient, now - timedelta(days=3, hours=10), [140] * 288)
    _connection(
        patient,
        status=DexcomConnection.Status.NEEDS_REAUTH,
        last_error="Dexcom refused our access token: reconnect your Dexcom account.",
        last_sync_at=now - timedelta(days=2, hours=10),
        backfill_total_days=90,
        backfill_done_days=90,
        backfill_completed_at=now - timedelta(days=3),
    )
    return patient
