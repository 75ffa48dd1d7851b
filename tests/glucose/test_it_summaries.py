"""DailySummary upkeep: per local day, DST, travel, and only the touched days."""

from datetime import UTC, date, datetime, timedelta

import pytest

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
        1, 0, 285, 1, 1)
    assert row.from_70_to_140 == 1
    assert row.last_reading_at == start + timedelta(minutes=5 * 287)


@pytest.mark.django_db
def test_it_puts_readings_in_the_local_day_of_their_own_offset(patient):
    # 23:30 UTC is 18:30 in New York (EST): the 12th there, whatever UTC says.
    factories.make_egvs(patient, datetime(2026, 11, 12, 23, 30, tzinfo=UTC), [120, 130],
                        delta_seconds=NEW_YORK_EST)
    assert list(DailySummary.objects.filter(patient=patient).values_list("day", "readings")) == [
        (date(2026, 11, 12), 2)]


@pytest.mark.django_db
def test_it_keeps_a_25_hour_dst_day_whole(patient):
    # 2026-11-01 in New York: midnight EDT (04:00 UTC) to midnight EST (05:00 UTC next day).
    start = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
    fall_back = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
    rows = []
    for i in range(300):
        at = start + timedelta(minutes=5 * i)
        rows.append(factories.egv(patient, at, 120, delta_seconds=NEW_YORK_EDT if at < fall_back else NEW_YORK_EST))
    Egv.objects.bulk_create(rows)
    rebuild_daily_summaries(patient_id=patient.pk, since=None)
    assert list(DailySummary.objects.filter(patient=patient).values_list("day", "readings")) == [
        (date(2026, 11, 1), 300)]


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
    raw = compute_metrics(values, period_start=date(2026, 11, 1), period_end=date(2026, 11, 8),
                          days_with_data=7)
    for key in ("mean_mgdl", "sd_mgdl", "cv_percent", "gri", "tir_70_180_percent", "wear_percent",
                "gmi_percent", "readings"):
        assert from_summaries[key] == pytest.approx(raw[key]), key
