"""The typed report builders of apps.glucose.reports (one per page) on hand-made records.

Each builder takes the patient, an already-parsed period and the unit, never a request; the
numbers in the reports are what apps.glucose.metrics and apps.glucose.localtime say about the
records made here."""

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from apps.glucose import alarm_report
from apps.glucose.localtime import period_ending
from apps.glucose.reports.agp import DAILY_PROFILE_DAYS, AgpReport, DailyProfile, agp_report
from apps.glucose.reports.devices import DevicesReport, devices_report
from apps.glucose.reports.events import EventsReport, events_report
from apps.glucose.reports.imports import import_job_of, recent_import_jobs
from apps.glucose.reports.overview import OverviewReport, overview_report
from apps.glucose.reports.patient import STALE_AFTER, PatientHeader, patient_header
from apps.glucose.reports.trace import TraceReport, trace_report
from tests.glucose import factories

# A fixed "now": the patient's today is 20 Nov 2026 (UTC zone, no display offset).
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TODAY = date(2026, 11, 20)
MIDNIGHT = datetime(2026, 11, 20, tzinfo=UTC)


def _period(patient, *, days: int, last_day: date = TODAY):
    header = patient_header(patient, now=NOW)
    return period_ending(last_day, days=days, local_now=header.local_now, tzinfo=patient.tzinfo)


# --- Patient header ---------------------------------------------------------------------------


def test_the_header_without_readings_reads_the_patients_zone(patient):
    patient.timezone = "America/New_York"
    header = patient_header(patient, now=NOW)
    assert header.latest is None and header.latest_age is None and not header.is_stale
    assert header.local_now == datetime(2026, 11, 20, 7, 0)  # 12:00 UTC is 07:00 EST
    assert header.today == TODAY
    assert header.unit == "mg/dL"


def test_the_header_takes_the_newest_real_reading_its_offset_and_the_device_unit(patient):
    factories.make_egvs(
        patient, NOW - timedelta(hours=5), [100, 110], delta_seconds=9 * 3600, summaries=False
    )
    factories.make_egvs(patient, NOW + timedelta(hours=2), [300], summaries=False)  # not a reading yet
    factories.make_device(patient, unit="mmol/L")
    header = patient_header(patient, now=NOW)
    assert header.latest.value == 110
    assert header.latest_age == timedelta(hours=5) - timedelta(minutes=5)
    assert header.latest_age > STALE_AFTER and header.is_stale
    assert header.local_now == datetime(2026, 11, 20, 21, 0)  # the reading's +9 h (travel)
    assert header.unit == "mmol/L"  # no choice of their own: what the device shows


# --- Overview ---------------------------------------------------------------------------------


def test_the_overview_compares_the_period_with_the_one_before_and_ranks_its_days(patient):
    # 28 full days ending yesterday: the 14 before at 200 mg/dL, then 14 in range but day 3 at 300.
    yesterday = MIDNIGHT - timedelta(days=1)

    def value(i):
        day = i // 288
        if day < 14:
            return 200
        return 300 if day == 14 + 3 else 100 + (day - 14)

    factories.make_days(patient, last_day_start=yesterday, days=28, value_for=value)
    period = _period(patient, days=14, last_day=TODAY - timedelta(days=1))
    header = patient_header(patient, now=NOW)
    report = overview_report(patient=patient, period=period, unit="mg/dL", latest=header.latest)
    assert report.previous.end_day == period.first_day and report.previous.days == 14
    assert report.metrics["readings"] == 14 * 288
    assert report.previous_metrics["readings"] == 14 * 288 and report.has_previous
    assert report.previous_metrics["mean_mgdl"] == pytest.approx(200)
    assert report.metrics["tir_70_180_percent"] == pytest.approx(100 * 13 / 14)
    assert report.best_day.day == period.first_day  # all in range, lowest mean
    assert report.worst_day.day == period.first_day + timedelta(days=3)
    # The mini trace: the 24 h up to the newest reading, both ends included.
    assert len(report.last_day) == 289
    assert report.last_day.epoch_s[-1] == int(header.latest.system_time.timestamp())


def test_the_overview_without_readings_has_no_previous_period_nor_mini_trace(patient):
    report = overview_report(patient=patient, period=_period(patient, days=14), unit="mg/dL", latest=None)
    assert report.metrics["readings"] == 0 and not report.has_previous
    assert report.best_day is None and report.worst_day is None
    assert len(report.last_day) == 0


# --- Trace and day view -----------------------------------------------------------------------


def test_the_trace_holds_the_days_readings_and_markers_and_nothing_of_other_days(patient):
    day_start = MIDNIGHT - timedelta(days=1)
    factories.make_egvs(patient, day_start - timedelta(hours=1), [90] * (12 * 26), summaries=False)
    factories.make_event(
        patient, day_start + timedelta(hours=8), "insulin", "4", unit="units", sub_type="fastActing"
    )
    factories.make_event(patient, day_start + timedelta(hours=9), "carbs", "40", status="deleted")
    factories.make_event(patient, day_start - timedelta(minutes=30), "carbs", "20")  # the day before
    factories.make_alert(patient, day_start + timedelta(hours=10), "low", "activeSnoozed")
    factories.make_calibration(patient, day_start + timedelta(hours=11), value=132)
    report = trace_report(
        patient=patient, period=_period(patient, days=1, last_day=TODAY - timedelta(days=1))
    )
    assert report.readings == 288  # the hour before and after the day are left out
    assert [row[2:] for row in report.events] == [("insulin", "fastActing", "4", "units")]
    assert report.events[0][0] == int((day_start + timedelta(hours=8)).timestamp())
    assert [row[2:] for row in report.alerts] == [("low", "activeSnoozed")]
    assert [row[2:] for row in report.calibrations] == [(132,)]


# --- AGP --------------------------------------------------------------------------------------


def test_the_agp_report_has_the_metrics_percentiles_and_the_last_14_daily_profiles(patient):
    factories.make_days(patient, last_day_start=MIDNIGHT - timedelta(days=1), days=16, summaries=False)
    period = _period(patient, days=16, last_day=TODAY - timedelta(days=1))
    report = agp_report(patient=patient, period=period, unit="mg/dL")
    assert report.days == 16 and report.unit == "mg/dL"
    assert report.metrics["readings"] == len(report.series) == 16 * 288
    assert report.metrics["days_with_data"] == 16
    assert len(report.percentiles["p50"]) == 288
    assert len(report.profiles) == DAILY_PROFILE_DAYS
    assert report.profiles[0].day == period.first_day + timedelta(days=2)
    assert report.profiles[-1].day == period.last_day
    first = report.profiles[0]
    assert first.minutes.tolist() == list(range(0, 1440, 5))
    assert first.values.tolist() == [100 + i // 2 for i in range(288)]


def test_a_daily_profile_is_the_readings_own_wall_clock_day(patient):
    # 23:30 UTC with a +1 h display offset is 00:30 of the next local day.
    at = datetime(2026, 11, 18, 23, 30, tzinfo=UTC)
    factories.make_egvs(patient, at, [150], delta_seconds=3600, summaries=False)
    report = agp_report(patient=patient, period=_period(patient, days=3), unit="mg/dL")
    by_day = {profile.day: profile for profile in report.profiles}
    assert by_day[date(2026, 11, 19)].minutes.tolist() == [30]
    assert by_day[date(2026, 11, 18)].values.size == 0


# --- Events, devices, alert history, imports ---------------------------------------------------


def test_the_events_report_is_newest_first_without_deleted_ones_and_filters_types(patient):
    day_start = MIDNIGHT - timedelta(days=1)
    factories.make_event(patient, day_start + timedelta(hours=8), "carbs", "30")
    factories.make_event(patient, day_start + timedelta(hours=9), "insulin", "4", unit="units")
    factories.make_event(patient, day_start + timedelta(hours=10), "carbs", "99", status="deleted")
    period = _period(patient, days=7)
    everything = events_report(patient=patient, period=period, types=["", ""])
    assert everything.types == []
    assert [(e.event_type, e.value) for e in everything.events] == [("insulin", "4"), ("carbs", "30")]
    carbs = events_report(patient=patient, period=period, types=["carbs"])
    assert carbs.types == ["carbs"] and [e.value for e in carbs.events] == ["30"]


def test_the_devices_report_has_one_history_per_display_device(patient, other_patient):
    factories.make_device(patient)
    factories.make_device(other_patient)
    report = devices_report(patient=patient)
    assert [history.label for history in report.histories] == ["android (G7Android)"]
    assert {v.alert_name for v in report.histories[0].versions} == {"high", "low"}


def test_the_alert_history_counts_alarms_not_records(patient):
    day_start = MIDNIGHT - timedelta(days=1)
    for minutes, state in ((0, "activeAlarming"), (10, "activeSnoozed"), (40, "inactive")):
        factories.make_alert(patient, day_start + timedelta(hours=8, minutes=minutes), "high", state)
    factories.make_alert(patient, day_start + timedelta(hours=12), "low")
    period = _period(patient, days=7)
    report = alarm_report.alerts_report(patient=patient, period=period, unit="mg/dL")
    assert report.records == 4
    assert [row.alarm.name for row in report.alarms] == ["low", "high"]  # newest first
    assert [s["counts"][-2] for s in report.chart["series"]] == [1, 1]  # both yesterday
    only_high = alarm_report.alerts_report(patient=patient, period=period, unit="mg/dL", names=["high"])
    assert [row.alarm.name for row in only_high.alarms] == ["high"] and only_high.records == 3


def test_the_import_pages_see_only_the_patients_own_newest_jobs(patient, other_patient):
    jobs = [factories.make_import_job(patient, f"export-{i}.csv") for i in range(7)]
    theirs = factories.make_import_job(other_patient, "theirs.csv")
    recent = recent_import_jobs(patient=patient)
    assert len(recent) == 5 and theirs not in recent
    assert recent == sorted(recent, key=lambda job: job.created_at, reverse=True)
    assert import_job_of(patient=patient, job_id=jobs[0].pk) == jobs[0]
    assert import_job_of(patient=patient, job_id=theirs.pk) is None


@pytest.mark.parametrize(
    "report_class",
    [
        PatientHeader,
        OverviewReport,
        TraceReport,
        AgpReport,
        DailyProfile,
        EventsReport,
        DevicesReport,
        alarm_report.AlertsReport,
    ],
)
def test_every_report_is_a_frozen_dataclass(report_class):
    # A presenter turns a report into display rows; it never changes the report it was given.
    assert dataclasses.is_dataclass(report_class) and report_class.__dataclass_params__.frozen
