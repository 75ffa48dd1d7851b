"""Alarm burden and settings timeline reports on hand-made records (apps.glucose.alarm_report)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from apps.glucose import alarm_report, localtime
from apps.glucose.alert_settings import SettingsHistory, all_changes
from apps.glucose.models import Alert
from apps.glucose.selectors import devices_with_settings
from tests.glucose import factories

DAY0 = datetime(2026, 11, 1, tzinfo=UTC)  # patients here are in UTC (delta 0)


def alarm(patient, at, name="high", minutes=40, snooze_after=None, transmitter="tx-1"):
    def record(moment, state):
        factories.make_alert(
            patient, moment, name, state, transmitter_id=transmitter, source=factories.RECEIVER_G6
        )

    record(at, "activeAlarming")
    if snooze_after is not None:
        record(at + timedelta(minutes=snooze_after), "activeSnoozed")
    record(at + timedelta(minutes=minutes), "inactive")


@pytest.fixture
def history(patient):
    """Transmitter 1 (uploads to 10 Nov): high 250 set 2 Nov. Transmitter 2 (now): high 200 set
    5 Nov 21:03 (so tx-2 reports 200 only), and a Night schedule added 8 Nov with high 280."""
    patient.timezone = "UTC"
    patient.save()
    old = factories.make_g6_snapshot(patient, "tx-1", DAY0 + timedelta(days=9))
    factories.setting(old, "high", 250, DAY0 + timedelta(days=1))
    factories.setting(old, "low", 70, DAY0 + timedelta(days=1))
    new = factories.make_g6_snapshot(patient, "tx-2", DAY0 + timedelta(days=20), night=True)
    factories.setting(new, "high", 200, DAY0 + timedelta(days=4, hours=21, minutes=3))
    factories.setting(new, "low", 70, DAY0 + timedelta(days=1))
    factories.setting(new, "high", 280, DAY0 + timedelta(days=7, hours=12), schedule="Night")
    return patient


def test_changes_read_from_to_with_when(history):
    changes = all_changes(devices_with_settings(patient_id=history.pk), unit="mg/dL", tzinfo=UTC)
    assert [(f"{c.local:%-d %b %H:%M}", c.lines) for c in changes] == [
        ("5 Nov 21:03", ("High alert 250 → 200 mg/dL",)),
        ("8 Nov 12:00", ("Night schedule added (22:00–07:00, every day)",)),
    ]


def test_changes_are_in_the_patients_unit(history):
    changes = all_changes(devices_with_settings(patient_id=history.pk), unit="mmol/L", tzinfo=UTC)
    assert changes[0].lines == ("High alert 13.9 → 11.1 mmol/L",)


def test_the_threshold_in_force_comes_from_the_snapshot_of_that_time(history):
    settings = SettingsHistory(devices_with_settings(patient_id=history.pk))
    record = Alert(transmitter_id="tx-2", display_device="iOS", display_app="G6")

    def at(moment):
        return settings.threshold_at(
            record, alert_name="high", moment=moment, local_time=moment.replace(tzinfo=None), unit="mg/dL"
        ).text

    assert at(DAY0 + timedelta(days=3)) == "250 mg/dL"  # before tx-2's change: tx-1 knew it
    assert at(DAY0 + timedelta(days=6, hours=23)) == "200 mg/dL"  # night, but no Night schedule yet
    assert at(DAY0 + timedelta(days=12, hours=23)) == "280 mg/dL"  # the Night schedule
    assert at(DAY0 + timedelta(days=12, hours=12)) == "200 mg/dL"
    assert at(DAY0 - timedelta(days=3)) == "unknown: before the first known setting (first known 2 Nov 2026)"


def test_burden_counts_alarms_not_records(history):
    day = DAY0 + timedelta(days=2)
    alarm(history, day + timedelta(hours=2), "high", minutes=60, snooze_after=5)  # night
    alarm(history, day + timedelta(hours=14), "high", minutes=30)
    alarm(history, day + timedelta(hours=15), "urgentLowSoon", minutes=20)
    alarm(history, day + timedelta(hours=15, minutes=12), "urgentLow", minutes=25, snooze_after=3)
    alarm(history, day + timedelta(hours=20), "urgentLow", minutes=10)  # no warning before it
    period = localtime.period_ending(date(2026, 11, 3), days=1)
    report = alarm_report.alarm_burden_report(patient=history, period=period, unit="mg/dL")
    assert (report.records, report.alarms) == (12, 5)
    assert (report.night_alarms, report.day_alarms) == (1, 4)
    assert report.per_night == 1.0 and report.per_day == 5.0
    assert report.snoozes == 2
    assert report.alarming_minutes == 5 + 30 + 20 + 3 + 10
    assert report.active_minutes == 60 + 30 + 20 + 25 + 10
    assert (report.warnings.urgent_lows, report.warnings.warned) == (2, 1)
    assert report.warnings.median_lead_minutes == 12
    assert [(c.label, c.threshold, c.alarms) for c in report.causes] == [
        ("Urgent low", "unknown: the device reported no setting of this alert", 2),
        ("High", "250 mg/dL", 2),
        ("Urgent low soon", "unknown: the device reported no setting of this alert", 1),
    ]
    assert [s["label"] for s in report.chart["series"]] == ["Urgent low", "Urgent low soon", "High"]
    assert report.chart["series"][-1]["colour"] == "#f0a800"


def test_burden_compares_the_same_length_before_and_after_a_change(history):
    factories.make_egvs(history, DAY0, [120] * (288 * 20), summaries=False)
    change_at = DAY0 + timedelta(days=4, hours=21, minutes=3)
    for days in (1, 2, 3):  # three highs in the 4 days before the change, one after
        alarm(history, change_at - timedelta(days=days), "high")
    alarm(history, change_at + timedelta(days=1), "high")
    alarm(history, change_at + timedelta(days=2), "low")
    period = localtime.period_ending(date(2026, 11, 20), days=14)
    report = alarm_report.alarm_burden_report(patient=history, period=period, unit="mg/dL")
    effect = next(e for e in report.effects if "High alert 250 → 200 mg/dL" in e.change.lines)
    # The readings start 1 Nov 00:00: 4 days 21:03 before the change, so 4.88 days each side.
    assert effect.window_days == pytest.approx(4 + 21 / 24 + 3 / 1440)
    assert (effect.before.alarms, effect.after.alarms) == (3, 2)
    assert (effect.changed_alarms_before, effect.changed_alarms_after) == (3, 1)


def test_the_timeline_has_metrics_before_and_after_each_change(history):
    # 100 mg/dL before the high change, 200 after: TIR 100 % then 0 %.
    values = [100] * (288 * 4 + 12 * 21 + 1) + [200] * (288 * 16)
    factories.make_egvs(history, DAY0, values, summaries=False)
    report = alarm_report.settings_timeline_report(patient=history, unit="mg/dL")
    entry = next(e for e in report.entries if "High alert 250 → 200 mg/dL" in e.change.lines)
    assert entry.before["mean_mgdl"] == pytest.approx(100, abs=1)
    assert entry.before["tir_70_180_percent"] == pytest.approx(100)
    assert entry.after["tir_70_180_percent"] == pytest.approx(0)
    assert report.first_known == DAY0 + timedelta(days=1)
    assert len(report.chart["changes"]) == 2


def test_a_schedule_missing_from_an_upload_and_back_later_is_removed_then_added_again(history):
    # A third upload (tx-3, 30 Nov) without the Night schedule, a fourth (tx-4) with it set up again.
    gone = factories.make_g6_snapshot(history, "tx-3", DAY0 + timedelta(days=29))
    factories.setting(gone, "high", 200, DAY0 + timedelta(days=4, hours=21, minutes=3))
    back = factories.make_g6_snapshot(history, "tx-4", DAY0 + timedelta(days=40), night=True)
    factories.setting(back, "high", 200, DAY0 + timedelta(days=4, hours=21, minutes=3))
    factories.setting(back, "high", 260, DAY0 + timedelta(days=33, hours=8), schedule="Night")
    changes = all_changes(devices_with_settings(patient_id=history.pk), unit="mg/dL", tzinfo=UTC)
    assert [(f"{c.local:%-d %b %H:%M}", c.lines) for c in changes][1:] == [
        ("8 Nov 12:00", ("Night schedule added (22:00–07:00, every day)",)),
        ("30 Nov 00:00", ("Night schedule no longer reported (missing from this upload)",)),
        ("4 Dec 08:00", ("Night schedule added (22:00–07:00, every day)",)),
    ]


def test_a_schedule_set_up_again_is_announced_once_and_its_settings_are_no_change(history):
    gone = factories.make_g6_snapshot(history, "tx-3", DAY0 + timedelta(days=29))
    factories.setting(gone, "high", 200, DAY0 + timedelta(days=4, hours=21, minutes=3))
    back = factories.make_g6_snapshot(history, "tx-4", DAY0 + timedelta(days=40), night=True)
    factories.setting(back, "high", 260, DAY0 + timedelta(days=33, hours=8), schedule="Night")
    factories.setting(back, "low", 65, DAY0 + timedelta(days=36), schedule="Night")  # changed since
    changes = all_changes(devices_with_settings(patient_id=history.pk), unit="mg/dL", tzinfo=UTC)
    lines = [line for change in changes for line in change.lines]
    assert lines.count("Night schedule added (22:00–07:00, every day)") == 2  # 8 Nov and 4 Dec
    assert not any("(Night)" in line for line in lines)
