"""DailySummary upkeep: per local day, DST, travel, and only the touched days."""

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.glucose.metrics import compute_metrics, metrics_from_daily_summaries
from apps.glucose.models import DailySummary, Egv
from apps.glucose.summaries import rebuild_daily_summaries
from tests.glucose import factories

NEW_YORK_EDT = -4 * 3600
NEW_YORK_EST = -5 * 3600


@pytest.mark.django_db
def test_it_sums_each_local_day(patient):
    start = datetime(2026, 11, 10, tzinfo=UTC)
    factories.make_egvs(patient, start, [39, 100, 200, 401] + [150] * 284)
    row = DailySummary.objects.get(patient=patient, day=date(2026, 11, 10))
    assert row.readings == 288
    assert row.value_sum == 40 + 100 + 200 + 400 + 150 * 284  # LOW as 40, HIGH as 400
    assert row.value_sq_sum == 40**2 + 100**2 + 200**2 + 400**2 + 150**2 * 284
    assert (row.below_54, row.from_54_to_69, row.from_70_to_180, row.from_181_to_250, row.above_250) == (
        1,
        0,
        285,
        1,
        1,
    )
    assert row.from_70_to_140 == 1
    assert row.last_reading_at == start + timedelta(minutes=5 * 287)


@pytest.mark.django_db
def test_it_puts_readings_in_the_local_day_of_their_own_offset(patient):
    # 23:30 UTC is 18:30 in New York (EST): the 12th there, whatever UTC says.
    factories.make_egvs(
        patient, datetime(2026, 11, 12, 23, 30, tzinfo=UTC), [120, 130], delta_seconds=NEW_YORK_EST
    )
    assert list(DailySummary.objects.filter(patient=patient).values_list("day", "readings")) == [
        (date(2026, 11, 12), 2)
    ]


@pytest.mark.django_db
def test_it_keeps_a_25_hour_dst_day_whole(patient):
    # 2026-11-01 in New York: midnight EDT (04:00 UTC) to midnight EST (05:00 UTC next day).
    start = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
    fall_back = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
    rows = []
    for i in range(300):
        at = start + timedelta(minutes=5 * i)
        rows.append(
            factories.egv(patient, at, 120, delta_seconds=NEW_YORK_EDT if at < fall_back else NEW_YORK_EST)
        )
    Egv.objects.bulk_create(rows)
    rebuild_daily_summaries(patient_id=patient.pk, since=None)
    assert list(DailySummary.objects.filter(patient=patient).values_list("day", "readings")) == [
        (date(2026, 11, 1), 300)
    ]


@pytest.mark.django_db
def test_it_rebuilds_only_days_touched_since(patient):
    factories.make_egvs(patient, datetime(2026, 11, 1, tzinfo=UTC), [100] * (288 * 3))
    DailySummary.objects.filter(day=date(2026, 11, 1)).update(readings=1)  # marks an untouched day
    new = [factories.egv(patient, datetime(2026, 11, 3, 23, 0, tzinfo=UTC) + timedelta(seconds=1), 300)]
    Egv.objects.bulk_create(new)
    assert rebuild_daily_summaries(patient_id=patient.pk, since=new[0].system_time) == 1
    days = dict(DailySummary.objects.filter(patient=patient).values_list("day", "readings"))
    assert days == {date(2026, 11, 1): 1, date(2026, 11, 2): 288, date(2026, 11, 3): 289}


@pytest.mark.django_db
def test_it_drops_days_that_lost_their_readings(patient):
    factories.make_egvs(patient, datetime(2026, 11, 1, tzinfo=UTC), [100] * 10)
    Egv.objects.filter(patient=patient).delete()
    rebuild_daily_summaries(patient_id=patient.pk, since=None)
    assert not DailySummary.objects.filter(patient=patient).exists()


@pytest.mark.django_db
def test_it_gives_the_raw_metrics_from_summaries(patient):
    values = [39, 60, 90, 150, 200, 260, 401] * 288
    factories.make_egvs(patient, datetime(2026, 11, 1, tzinfo=UTC), values)
    rows = DailySummary.objects.filter(patient=patient)
    from_summaries = metrics_from_daily_summaries(rows, period_days=7)
    raw = compute_metrics(
        values, period_start=date(2026, 11, 1), period_end=date(2026, 11, 8), days_with_data=7
    )
    for key in (
        "mean_mgdl",
        "sd_mgdl",
        "cv_percent",
        "gri",
        "tir_70_180_percent",
        "wear_percent",
        "gmi_percent",
        "readings",
    ):
        assert from_summaries[key] == pytest.approx(raw[key]), key


def _summary_table(patient, model=DailySummary) -> list[tuple]:
    """Every column of the patient's rows, the day first (`model`: a migration state's)."""
    fields = ["day", *(f.name for f in model._meta.fields if f.name not in ("id", "updated_at", "day"))]
    return list(model.objects.filter(patient_id=patient.pk).order_by("day").values_list(*fields))


@pytest.mark.django_db
def test_one_reading_with_an_old_device_clock_rebuilds_only_its_own_day(patient):
    # 91 local days of readings, then one EGV whose receiver clock was reset to 2024-01-01.
    last_day_start = datetime(2026, 11, 30, tzinfo=UTC)
    factories.make_days(patient, last_day_start=last_day_start, days=91)
    before = _summary_table(patient)
    assert len(before) == 91
    arrives = last_day_start + timedelta(hours=12)
    odd = factories.egv(
        patient,
        arrives,
        222,
        delta_seconds=int((datetime(2024, 1, 1, 8, 0, tzinfo=UTC) - arrives).total_seconds()),
    )
    Egv.objects.bulk_create([odd])
    # Its own day and the day it arrived on (whose afternoon readings come after it).
    assert rebuild_daily_summaries(patient_id=patient.pk, since=arrives) == 2
    after = _summary_table(patient)
    assert len(after) == 92
    assert [row for row in after if row[0] != date(2024, 1, 1)] == before  # all 91 days intact
    odd_day = DailySummary.objects.get(patient=patient, day=date(2024, 1, 1))
    assert (odd_day.readings, odd_day.value_sum, odd_day.from_181_to_250) == (1, 222, 1)


@pytest.mark.django_db
def test_a_rebuild_finds_every_earlier_reading_of_the_odd_day(patient):
    # Two readings on 2024-01-01 by their device clock, written a day apart: the second
    # rebuild must count both, though the first was stored long ago by systemTime.
    day_start = datetime(2026, 11, 1, tzinfo=UTC)
    for hours in (0, 30):
        arrives = day_start + timedelta(hours=hours)
        delta = int((datetime(2024, 1, 1, 8, hours % 24, tzinfo=UTC) - arrives).total_seconds())
        Egv.objects.bulk_create([factories.egv(patient, arrives, 100, delta_seconds=delta)])
        rebuild_daily_summaries(patient_id=patient.pk, since=arrives)
    assert DailySummary.objects.get(patient=patient, day=date(2024, 1, 1)).readings == 2


@pytest.mark.django_db
def test_the_command_rebuilds_a_wiped_table_to_identical_content(patient, other_patient):
    factories.make_days(patient, last_day_start=datetime(2026, 11, 30, tzinfo=UTC), days=5)
    factories.make_egvs(other_patient, datetime(2026, 11, 2, 6, tzinfo=UTC), [60, 141, 181, 251, 401])
    expected = {p.pk: _summary_table(p) for p in (patient, other_patient)}
    DailySummary.objects.all().delete()
    out = io.StringIO()
    call_command("rebuild_summaries", "--all", stdout=out)
    assert {p.pk: _summary_table(p) for p in (patient, other_patient)} == expected
    assert f"{patient.email}: 5 days rebuilt (0 before)" in out.getvalue()
    assert "Rebuilt the daily summaries of 2 patient(s)." in out.getvalue()
    again = io.StringIO()
    call_command("rebuild_summaries", "--user", patient.email.upper(), stdout=again)  # idempotent
    assert _summary_table(patient) == expected[patient.pk]
    assert f"{patient.email}: 5 days rebuilt (5 before)" in again.getvalue()


@pytest.mark.django_db
def test_the_command_names_an_unknown_user():
    with pytest.raises(CommandError, match="No user"):
        call_command("rebuild_summaries", "--user", "nobody@example.com")


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_existing_days_their_mmol_bands(patient):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = ("glucose", "0001_initial"), ("glucose", "0002_mmol_bands_and_odd_offset_index")
    values = [100, 141, 141, 181, 251, 251, 251, 300]
    factories.make_egvs(
        patient, datetime(2026, 11, 10, 20, 40, tzinfo=UTC), values, delta_seconds=3 * 3600
    )  # 23:40 to 00:15 by the phone: two local days
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    at_0002 = executor.loader.project_state([after]).apps.get_model("glucose", "DailySummary")
    expected = _summary_table(patient, at_0002)  # the columns 0002 knows, as the rebuild wrote them
    assert len(expected) == 2
    try:
        executor.migrate([before])
        old = executor.loader.project_state([before]).apps.get_model("glucose", "DailySummary")
        assert old.objects.filter(patient_id=patient.pk).count() == len(expected)  # mg/dL rows kept
        executor = MigrationExecutor(connection)
        executor.migrate([after])
        assert _summary_table(patient, at_0002) == expected
    finally:
        # Later tests need every table: migrate forward to the latest state again, whatever failed.
        MigrationExecutor(connection).migrate(latest)
