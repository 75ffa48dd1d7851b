"""Records whose times make no sense are quarantined with a reason, on SQLite and PostgreSQL alike.

Run with DATABASE_URL=postgres://... for the PostgreSQL (COPY) path.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from apps.glucose import ingest
from apps.glucose.models import Egv
from apps.sync import quarantine
from apps.sync.records import MAX_DISPLAY_DELTA, rows_from_records

NOW = datetime(2026, 1, 10, tzinfo=UTC)


def egv(record_id, system, display, value=120):
    return {
        "recordId": record_id,
        "systemTime": system,
        "displayTime": display,
        "transmitterId": "abc",
        "transmitterTicks": 1000,
        "value": value,
        "status": None,
        "trend": "flat",
        "trendRate": 0.3,
        "unit": "mg/dL",
        "rateUnit": "mg/dL/min",
        "displayDevice": "receiver",
        "transmitterGeneration": "g6",
    }


def many_good(count, start=datetime(2026, 1, 1, tzinfo=UTC)):
    """Enough rows that PostgreSQL takes the COPY path (apps.glucose.ingest.bulk.COPY_FRESH_MIN)."""
    records = []
    for n in range(count):
        at = start + timedelta(minutes=5 * n)
        records.append(
            egv(f"good-{n}", f"{at:%Y-%m-%dT%H:%M:%S}", f"{at - timedelta(hours=6):%Y-%m-%dT%H:%M:%S}")
        )
    return records


@pytest.mark.parametrize(
    ("display", "stored"),
    [
        ("2026-01-02T02:00:00", 14 * 3600),  # Kiribati, +14 h
        ("2026-01-01T00:00:00", -12 * 3600),  # Baker Island, -12 h
        ("2026-01-02T12:00:00", 24 * 3600),  # the bound itself: a receiver set a day ahead
        ("2025-12-31T12:00:00", -24 * 3600),
    ],
)
def test_it_keeps_every_real_offset_up_to_the_bound(display, stored):
    [row], bad = rows_from_records("egvs", [egv("a", "2026-01-01T12:00:00", display)], patient_id=1, now=NOW)
    assert not bad and row["display_delta_seconds"] == stored
    assert timedelta(hours=24) == MAX_DISPLAY_DELTA


@pytest.mark.parametrize(
    ("display", "words"),
    [
        ("2099-01-01T00:00:00", "+639,900.0 h"),  # would wrap int32 in the COPY path
        ("2024-01-01T00:00:00", "-17,556.0 h"),  # a receiver whose clock was reset
        ("2026-01-02T12:00:01", "+24.0 h"),
        ("2025-12-31T11:59:59", "-24.0 h"),
    ],
)
def test_it_quarantines_a_display_time_more_than_a_day_off(display, words):
    rows, bad = rows_from_records("egvs", [egv("odd", "2026-01-01T12:00:00", display)], patient_id=1, now=NOW)
    assert rows == [] and len(bad) == 1
    assert bad[0].record_id == "odd"
    assert "displayTime" in bad[0].reason and words in bad[0].reason and "±24 h" in bad[0].reason


@pytest.mark.django_db(transaction=True)
def test_it_stores_the_good_rows_and_none_wrapped_on_this_database(patient):
    records = many_good(600)
    records.insert(300, egv("2099", "2026-01-02T01:02:00", "2099-01-01T00:00:00"))
    records.insert(10, egv("1962", "2026-01-01T00:52:00", "1962-01-01T00:00:00"))
    rows, bad = rows_from_records("egvs", records, patient_id=patient.pk, now=NOW)
    with transaction.atomic():
        ingest.store_synced("egvs", rows, patient_id=patient.pk)
        quarantine.quarantine(patient_id=patient.pk, run_id=None, record_type="egvs", bad=bad)
    stored = Egv.objects.filter(patient=patient)
    assert stored.count() == 600
    assert set(stored.values_list("display_delta_seconds", flat=True)) == {-6 * 3600}
    from apps.sync.models import QuarantinedRecord

    quarantined = QuarantinedRecord.objects.filter(patient=patient)
    assert sorted(quarantined.values_list("record_id", flat=True)) == ["1962", "2099"]
    assert all("displayTime" in q.reason for q in quarantined)
