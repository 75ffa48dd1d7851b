"""Alarms, not alert state records: the grouping rule of apps.glucose.alarms on hand-made records."""

from apps.glucose.alarms import AlertStateRecord, group_alarms

T0 = 1_763_000_000  # some UTC instant
MIN = 60


def rec(minute, state, name="high", transmitter="tx1", delta=0):
    return AlertStateRecord(T0 + minute * MIN, delta, name, state, transmitter, "iOS", "G6")


def test_alarming_snoozed_inactive_is_one_alarm():
    alarms = group_alarms([rec(0, "activeAlarming"), rec(7, "activeSnoozed"), rec(50, "inactive")])
    assert len(alarms) == 1
    alarm = alarms[0]
    assert (alarm.snoozes, alarm.realarms, alarm.records) == (1, 0, 3)
    assert alarm.alarming_seconds == 7 * MIN
    assert alarm.active_seconds == 50 * MIN


def test_a_re_alarm_after_the_snooze_belongs_to_the_same_alarm():
    records = [
        rec(0, "activeAlarming"),
        rec(5, "activeSnoozed"),
        rec(65, "activeAlarming"),
        rec(70, "activeSnoozed"),
        rec(100, "inactive"),
    ]
    [alarm] = group_alarms(records)
    assert (alarm.snoozes, alarm.realarms) == (2, 1)
    assert alarm.alarming_seconds == 10 * MIN


def test_each_alert_type_and_each_device_has_its_own_alarms():
    records = [
        rec(0, "activeAlarming"),
        rec(1, "activeAlarming", name="rise"),
        rec(2, "activeAlarming", transmitter="tx2"),
        rec(10, "inactive"),
        rec(11, "inactive", name="rise"),
        rec(12, "inactive", transmitter="tx2"),
    ]
    alarms = group_alarms(records)
    assert [(a.name, a.first.transmitter_id) for a in alarms] == [
        ("high", "tx1"),
        ("rise", "tx1"),
        ("high", "tx2"),
    ]
    assert all(a.end_epoch is not None for a in alarms)


def test_records_in_any_order_give_the_same_alarms():
    records = [rec(50, "inactive"), rec(0, "activeAlarming"), rec(7, "activeSnoozed")]
    assert len(group_alarms(records)) == 1


def test_an_end_without_a_start_is_no_alarm_and_a_snooze_without_one_starts_one():
    alarms = group_alarms(
        [rec(0, "inactive"), rec(10, "activeSnoozed"), rec(20, "inactive"), rec(30, "unknown")]
    )
    assert len(alarms) == 1
    assert alarms[0].start_epoch == T0 + 10 * MIN and alarms[0].snoozes == 1
    assert alarms[0].alarming_seconds == 0


def test_an_alarm_silent_for_hours_ended_unseen_and_the_next_alarming_is_new():
    alarms = group_alarms(
        [rec(0, "activeAlarming"), rec(7 * 60, "activeAlarming"), rec(7 * 60 + 30, "inactive")]
    )
    assert len(alarms) == 2
    first, second = alarms
    assert first.end_epoch is None and first.active_seconds == 0
    assert second.active_seconds == 30 * MIN


def test_night_is_the_local_wall_clock_before_six():
    # 05:30 local on a device 5 h behind UTC is 10:30 UTC.
    utc_1030 = 1_763_000_000 - 1_763_000_000 % 86400 + 10 * 3600 + 30 * 60
    night = AlertStateRecord(utc_1030, -5 * 3600, "low", "activeAlarming", "tx", "", "")
    day = AlertStateRecord(utc_1030, 0, "low", "activeAlarming", "ty", "", "")
    by_tx = {a.first.transmitter_id: a for a in group_alarms([night, day])}
    assert by_tx["tx"].at_night and not by_tx["ty"].at_night
