"""The generated data against the reference (dexcom-facts.md): every field, enum and quirk."""

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from apps.sandbox import generator, truth
from apps.sandbox.profiles import PROFILES, profile_for

NOW = datetime.now(UTC).replace(microsecond=0)
END = NOW - timedelta(hours=2)
START = END - timedelta(days=30)
USERS = [profile.key for profile in PROFILES]

EGV_FIELDS = {
    "recordId",
    "systemTime",
    "displayTime",
    "transmitterId",
    "transmitterTicks",
    "value",
    "status",
    "trend",
    "trendRate",
    "unit",
    "rateUnit",
    "displayDevice",
    "transmitterGeneration",
    "transmitterGenerationVariant",
    "displayApp",
}
ALERT_FIELDS = {
    "recordId",
    "systemTime",
    "displayTime",
    "alertName",
    "alertState",
    "displayDevice",
    "transmitterGeneration",
    "transmitterGenerationVariant",
    "transmitterId",
    "displayApp",
}
CALIBRATION_FIELDS = {
    "recordId",
    "systemTime",
    "displayTime",
    "unit",
    "value",
    "displayDevice",
    "transmitterId",
    "transmitterTicks",
    "transmitterGeneration",
    "transmitterGenerationVariant",
}
EVENT_FIELDS = {
    "systemTime",
    "displayTime",
    "recordId",
    "eventStatus",
    "eventType",
    "eventSubType",
    "value",
    "unit",
    "transmitterId",
    "transmitterGeneration",
    "transmitterGenerationVariant",
    "displayDevice",
    "recordedSystemTime",
    "recordedDisplayTime",
}
SETTING_FIELDS = {
    "alertName",
    "value",
    "unit",
    "snooze",
    "enabled",
    "systemTime",
    "displayTime",
    "delay",
    "secondaryTriggerCondition",
    "SecondaryTriggerCondition",
    "soundTheme",
    "soundOutputMode",
}
TRENDS = {
    "none",
    "unknown",
    "doubleUp",
    "singleUp",
    "fortyFiveUp",
    "flat",
    "fortyFiveDown",
    "singleDown",
    "doubleDown",
    "notComputable",
    "rateOutOfRange",
}


def records_of(record_type, key, start=START, end=END):
    return truth.records(sandbox_user_key=key, record_type=record_type, start=start, end=end, now=NOW)


@pytest.fixture(scope="module")
def everything(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return {
            record_type: {key: records_of(record_type, key) for key in USERS}
            for record_type in ("egvs", "alerts", "calibrations", "events", "devices")
        }


def all_of(everything, record_type):
    return [record for records in everything[record_type].values() for record in records]


def test_it_has_at_least_six_users_covering_the_device_mix():
    assert len(PROFILES) >= 6
    assert {p.generation for p in PROFILES} == {"g6", "g7"}
    assert {p.display_device for p in PROFILES} == {"iOS", "android", "receiver"}
    assert {p.variant for p in PROFILES} >= {"g6", "g7", "g715day"}
    assert "mmol/L" in {p.glucose_unit for p in PROFILES}
    assert {"Pacific/Auckland", "Asia/Tokyo"} & {p.timezone for p in PROFILES}
    assert sum(p.quirks for p in PROFILES) == 1


@pytest.mark.django_db
def test_it_sends_every_documented_egv_field_and_trend(everything):
    egvs = all_of(everything, "egvs")
    assert all(set(record) == EGV_FIELDS for record in egvs)
    assert {record["trend"] for record in egvs} == TRENDS
    assert {record["status"] for record in egvs} == {None, "low", "high"}
    assert {record["unit"] for record in egvs} == {"mg/dL"}
    assert {record["rateUnit"] for record in egvs} == {"mg/dL/min"}
    assert all(re.fullmatch(r"[0-9a-f-]{36}", record["recordId"]) for record in egvs)


@pytest.mark.django_db
def test_it_reports_out_of_range_readings_as_dexcom_does(everything):
    egvs = all_of(everything, "egvs")
    low = [record for record in egvs if record["status"] == "low"]
    high = [record for record in egvs if record["status"] == "high"]
    assert low and high
    assert {record["value"] for record in low} == {39}
    assert {record["value"] for record in high} == {401}
    in_range = [record["value"] for record in egvs if record["status"] is None]
    assert min(in_range) >= 40 and max(in_range) <= 400


@pytest.mark.django_db
def test_it_keeps_trend_and_trend_rate_consistent(everything):
    bounds = {
        "doubleUp": (3, 8),
        "singleUp": (2, 3),
        "fortyFiveUp": (1, 2),
        "flat": (-1, 1),
        "fortyFiveDown": (-2, -1),
        "singleDown": (-3, -2),
        "doubleDown": (-8, -3),
    }
    for record in all_of(everything, "egvs"):
        trend, rate = record["trend"], record["trendRate"]
        if trend in bounds:
            low, high = bounds[trend]
            assert low - 1e-9 <= rate <= high + 1e-9, record
        elif trend == "rateOutOfRange":
            assert rate is not None and (rate > 8 or rate <= -8), record
        else:
            assert rate is None, record


@pytest.mark.django_db
def test_it_leaves_warm_up_gaps_of_two_hours_on_g6_and_half_an_hour_on_g7(everything):
    for key, egvs in everything["egvs"].items():
        profile = profile_for(key)
        times = sorted(
            datetime.fromisoformat(r["systemTime"].replace("Z", "+00:00")).replace(tzinfo=UTC) for r in egvs
        )
        session_starts = sorted(
            {
                generator.session_start(profile, index)
                for index in generator.session_index(profile, [int(t.timestamp()) for t in times])
            }
        )
        for start in session_starts[1:]:
            start_time = datetime.fromtimestamp(start, UTC)
            after = [t for t in times if t >= start_time]
            before = [t for t in times if t < start_time]
            gap = after[0] - before[-1]
            assert gap >= timedelta(minutes=profile.warmup_minutes), (key, start_time, gap)


@pytest.mark.django_db
def test_it_has_signal_loss_gaps_inside_sessions(everything):
    egvs = everything["egvs"]["SandboxUser7"]
    # Readings a receiver uploaded carry no offset (late uploads): naive means UTC.
    times = sorted(
        datetime.fromisoformat(r["systemTime"].replace("Z", "+00:00")).replace(tzinfo=UTC) for r in egvs
    )
    gaps = [b - a for a, b in zip(times, times[1:], strict=False) if b - a > timedelta(minutes=20)]
    assert len(gaps) >= 5


@pytest.mark.django_db
def test_it_writes_times_like_each_kind_of_device(everything):
    offset = r"[+-]\d\d:\d\d(:\d\d)?$"
    receiver = everything["egvs"]["SandboxUser3"][0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", receiver["systemTime"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", receiver["displayTime"])
    assert everything["egvs"]["SandboxUser1"][0]["systemTime"].endswith("Z")
    assert re.search(offset, everything["egvs"]["SandboxUser1"][0]["displayTime"])
    assert everything["egvs"]["SandboxUser2"][0]["systemTime"].endswith("+00:00")
    assert re.search(r"-0[56]:59:59$", everything["egvs"]["SandboxUser5"][0]["displayTime"])
    assert re.search(r"\+1[23]:00$", everything["egvs"]["SandboxUser4"][0]["displayTime"])


@pytest.mark.django_db
def test_it_sends_alerts_of_every_name_and_state(everything):
    alerts = all_of(everything, "alerts")
    assert all(set(record) == ALERT_FIELDS for record in alerts)
    assert {record["alertName"] for record in alerts} == {
        "high",
        "low",
        "rise",
        "fall",
        "outOfRange",
        "urgentLow",
        "urgentLowSoon",
        "noReadings",
    }
    assert {record["alertState"] for record in alerts} == {"inactive", "activeSnoozed", "activeAlarming"}


@pytest.mark.django_db
def test_it_raises_high_alerts_only_above_the_threshold_in_force(everything):
    profile = profile_for("SandboxUser7")
    egvs = {r["systemTime"]: r for r in everything["egvs"]["SandboxUser7"]}
    alarms = [
        a
        for a in everything["alerts"]["SandboxUser7"]
        if a["alertName"] == "high" and a["alertState"] == "activeAlarming"
    ]
    assert alarms
    for alarm in alarms:
        instant = int(datetime.fromisoformat(alarm["systemTime"].replace("Z", "+00:00")).timestamp()) - 1
        enabled, threshold = generator.settings_per_reading(profile, np.array([instant]), "high")
        reading = egvs[datetime.fromtimestamp(instant, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")]
        assert enabled[0] and reading["value"] > threshold[0]


@pytest.mark.django_db
def test_it_sends_calibrations_only_for_g6_users(everything):
    for key, calibrations in everything["calibrations"].items():
        if profile_for(key).generation == "g6":
            assert len(calibrations) >= 5, key
            assert all(set(record) == CALIBRATION_FIELDS for record in calibrations)
            assert all(40 <= record["value"] <= 450 for record in calibrations)
        else:
            assert calibrations == [], key


@pytest.mark.django_db
def test_it_sends_events_of_every_type_with_string_values(everything):
    events = all_of(everything, "events")
    assert all(set(record) == EVENT_FIELDS for record in events)
    assert {record["eventType"] for record in events} >= {
        "insulin",
        "carbs",
        "exercise",
        "health",
        "bloodGlucose",
        "notes",
    }
    assert {record["eventSubType"] for record in events} == {
        None,
        "fastActing",
        "longActing",
        "light",
        "medium",
        "heavy",
        "illness",
        "stress",
        "highSymptoms",
        "lowSymptoms",
        "cycle",
        "alcohol",
    }
    assert {record["unit"] for record in events} == {"grams", "units", "minutes", "mg/dL", "mmol/L", None}
    assert {record["eventStatus"] for record in events} == {"created", "updated", "deleted"}
    assert all(record["value"] is None or isinstance(record["value"], str) for record in events)
    by_type = Counter(record["eventType"] for record in events)
    assert by_type["carbs"] > 100 and by_type["insulin"] > 100


@pytest.mark.django_db
def test_it_sends_blood_glucose_in_mmol_for_the_mmol_user(everything):
    readings = [e for e in everything["events"]["SandboxUser2"] if e["eventType"] == "bloodGlucose"]
    assert readings and {e["unit"] for e in readings} == {"mmol/L"}
    assert all(2 < float(e["value"]) < 25 for e in readings)


@pytest.mark.django_db
def test_it_shows_an_edit_only_once_it_was_made_keeping_id_and_time():
    key, start, end = "SandboxUser1", NOW - timedelta(days=20), NOW - timedelta(days=10)
    later = records_of("events", key, start, end)
    edited = [record for record in later if record["eventStatus"] != "created"]
    assert edited
    target = edited[0]
    event_time = datetime.fromisoformat(target["systemTime"].replace("Z", "+00:00"))
    # Seen before the edit (right after the event was published), it was still "created".
    earlier = truth.records(
        sandbox_user_key=key,
        record_type="events",
        start=start,
        end=end,
        now=event_time + timedelta(minutes=61),
    )
    before = next(record for record in earlier if record["recordId"] == target["recordId"])
    assert before["eventStatus"] == "created"
    assert before["systemTime"] == target["systemTime"]
    if target["eventStatus"] == "updated":
        assert before["value"] != target["value"]
    recorded = datetime.fromisoformat(target["recordedSystemTime"].replace("Z", "+00:00"))
    assert event_time < recorded <= event_time + timedelta(hours=24)


@pytest.mark.django_db
def test_it_never_edits_events_entered_on_a_receiver(everything):
    events = everything["events"]["SandboxUser3"]
    assert events and {e["eventStatus"] for e in events} == {"created"}


@pytest.mark.django_db
def test_it_includes_the_quirks_real_dexcom_data_has_in_one_user(everything):
    events = everything["events"]["SandboxUser6"]
    assert "note" in {e["eventType"] for e in events}
    assert {e["value"] for e in events if e["eventType"] == "exercise"} == {"-1"}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\dZ", e["systemTime"]) for e in events)
    assert {r["transmitterId"] for r in everything["egvs"]["SandboxUser6"]} == {""}
    assert "unknown" in {r["trend"] for r in everything["egvs"]["SandboxUser6"]}
    schedule = everything["devices"]["SandboxUser6"][0]["alertSchedules"][0]["alertScheduleSettings"]
    assert schedule["startTime"] == "0:00"
    for key in USERS:
        if key != "SandboxUser6":
            assert "note" not in {e["eventType"] for e in everything["events"][key]}
            assert all(len(r["transmitterId"]) == 64 for r in everything["egvs"][key])


@pytest.mark.django_db
def test_it_describes_devices_with_a_default_and_sometimes_a_night_schedule(everything):
    with_night = 0
    for key, devices in everything["devices"].items():
        assert devices, key
        for device in devices:
            assert {
                "lastUploadDate",
                "transmitterId",
                "transmitterGeneration",
                "transmitterGenerationVariant",
                "displayDevice",
                "displayApp",
                "alertSchedules",
            } == set(device)
            assert device["lastUploadDate"].endswith("Z")
            default, *night = device["alertSchedules"]
            settings = default["alertScheduleSettings"]
            assert settings["alertScheduleName"] == "" and settings["isDefaultSchedule"] is True
            assert settings["startTime"] in ("00:00", "0:00") and settings["endTime"] in ("00:00", "0:00")
            assert len(settings["daysOfWeek"]) == 7
            assert [n["alertScheduleSettings"]["alertScheduleName"] for n in night] in ([], ["Night"])
            with_night += bool(night)
            for schedule in device["alertSchedules"]:
                names = [s["alertName"] for s in schedule["alertSettings"]]
                assert {
                    "high",
                    "low",
                    "urgentLow",
                    "urgentLowSoon",
                    "rise",
                    "fall",
                    "outOfRange",
                    "noReadings",
                } <= set(names)
                for setting in schedule["alertSettings"]:
                    assert set(setting) == SETTING_FIELDS
                    assert setting["SecondaryTriggerCondition"] == setting["secondaryTriggerCondition"]
                    assert setting["soundOutputMode"] in ("sound", "vibrate", "match")
                    assert setting["soundTheme"] in ("modern", "classic")
    assert with_night


@pytest.mark.django_db
def test_it_lists_the_app_once_per_transmitter_with_the_settings_of_its_last_upload(everything):
    for key, devices in everything["devices"].items():
        profile = next(p for p in PROFILES if p.key == key)
        main = [
            d
            for d in devices
            if d["displayDevice"] == profile.display_device and d["displayApp"] == profile.display_app
        ]
        uploads = [d["lastUploadDate"] for d in main]
        assert uploads == sorted(uploads), key  # oldest first, the current one last
        if profile.quirks:
            assert len(main) == 1  # no transmitterId: one record
            continue
        assert len({d["transmitterId"] for d in main}) == len(main) >= 2, key
        for device in main:
            seen_at = datetime.fromisoformat(device["lastUploadDate"].replace("Z", "+00:00"))
            for schedule in device["alertSchedules"]:
                for setting in schedule["alertSettings"]:
                    adjusted = datetime.fromisoformat(setting["systemTime"].replace("Z", "+00:00"))
                    assert (adjusted if adjusted.tzinfo else adjusted.replace(tzinfo=UTC)) <= seen_at


@pytest.mark.django_db
def test_its_users_change_thresholds_add_a_night_schedule_and_turn_alerts_off_over_their_history():
    def schedules_at(now):
        devices = truth.records(
            sandbox_user_key="SandboxUser1", record_type="devices", start=now, end=now, now=now
        )
        phone = [d for d in devices if d["displayDevice"] == "iOS"]
        return max(phone, key=lambda d: d["lastUploadDate"])["alertSchedules"]

    snapshots = [schedules_at(NOW - timedelta(days=days)) for days in range(0, 120, 6)]
    night_present = [
        any(s["alertScheduleSettings"]["alertScheduleName"] == "Night" for s in snap) for snap in snapshots
    ]
    assert True in night_present and False in night_present  # dropped and set up again

    def default(snap, name, field):
        return next(s[field] for s in snap[0]["alertSettings"] if s["alertName"] == name)

    assert len({default(snap, "high", "value") for snap in snapshots}) >= 2
    assert (
        len(
            {default(snap, "high", "soundTheme") for snap in snapshots}
            | {default(snap, "low", "soundTheme") for snap in snapshots}
        )
        == 2
    )
    enabled = {
        (name, default(snap, name, "enabled"))
        for snap in snapshots
        for name in ("rise", "fall", "urgentLowSoon", "high", "low")
    }
    assert any((name, False) in enabled and (name, True) in enabled for name, _ in enabled)


@pytest.mark.django_db
def test_it_sends_receiver_devices_without_offsets_and_apps_with(everything):
    receiver_times = [
        s["systemTime"]
        for d in everything["devices"]["SandboxUser7"]
        if d["displayDevice"] == "receiver"
        for sched in d["alertSchedules"]
        for s in sched["alertSettings"]
    ]
    app_times = [
        s["displayTime"]
        for d in everything["devices"]["SandboxUser7"]
        if d["displayDevice"] == "android"
        for sched in d["alertSchedules"]
        for s in sched["alertSettings"]
    ]
    assert receiver_times and all(re.fullmatch(r"[\d-]+T[\d:]+", t) for t in receiver_times)
    assert app_times and all(re.search(r"[+-]\d\d:\d\d$", t) for t in app_times)


@pytest.mark.django_db
def test_it_sends_mmol_settings_for_the_mmol_user(everything):
    settings = everything["devices"]["SandboxUser2"][0]["alertSchedules"][0]["alertSettings"]
    by_name = {s["alertName"]: s for s in settings}
    assert by_name["high"]["unit"] == "mmol/L" and 8 < by_name["high"]["value"] < 23
    assert by_name["rise"]["unit"] == "mmol/L/min"
    assert by_name["outOfRange"]["unit"] == "minutes"


@pytest.mark.django_db
def test_it_changes_alert_settings_now_and_then_so_a_history_can_be_kept():
    def settings_at(now):
        devices = truth.records(
            sandbox_user_key="SandboxUser4", record_type="devices", start=now, end=now, now=now
        )
        return [s for sched in devices[-1]["alertSchedules"] for s in sched["alertSettings"]]

    snapshots = [settings_at(NOW - timedelta(days=days)) for days in range(0, 100, 11)]
    distinct = {
        tuple((s["alertName"], s["value"], s["enabled"], s["systemTime"]) for s in snap) for snap in snapshots
    }
    assert len(distinct) >= 4
    for snapshot, days in zip(snapshots, range(0, 100, 11), strict=False):
        seen_at = NOW - timedelta(days=days)
        assert all(
            datetime.fromisoformat(s["systemTime"].replace("Z", "+00:00")) <= seen_at for s in snapshot
        )


@pytest.mark.django_db
def test_it_keeps_at_least_90_days_of_history():
    ranges = truth.data_range(sandbox_user_key="SandboxUser1", now=NOW)
    first = datetime.fromisoformat(ranges["egvs"]["start"]["systemTime"].replace("Z", "+00:00"))
    assert first <= NOW - timedelta(days=100)
    old = records_of("egvs", "SandboxUser1", NOW - timedelta(days=95), NOW - timedelta(days=94))
    assert len(old) > 200


@pytest.mark.django_db
def test_it_grows_with_the_clock():
    start, end = NOW - timedelta(hours=6), NOW + timedelta(hours=3)
    earlier = records_of("egvs", "SandboxUser2", start, end)
    later = truth.records(
        sandbox_user_key="SandboxUser2",
        record_type="egvs",
        start=start,
        end=end,
        now=NOW + timedelta(hours=2),
    )
    assert len(later) >= len(earlier) + 20  # two more hours of 5-minute readings
    assert later[-len(earlier) :] == earlier  # newest first: the new readings come in front


def test_it_makes_physiologically_plausible_days():
    profile = profile_for("SandboxUser1")
    now = int(END.timestamp())
    series = generator.egv_series(profile, now - 14 * 86400, now, first_allowed=0, visible_until=now)
    values = series.values
    in_range = ((values >= 70) & (values <= 180)).mean()
    assert 0.5 < in_range < 0.98
    assert 110 < values.mean() < 190
    steps = abs(np.diff(values))
    assert np.percentile(steps, 95) < 12, "5-minute changes are mostly small"


@pytest.mark.django_db
@pytest.mark.parametrize("key", USERS)
def test_it_gives_a_record_the_same_content_in_any_window(key):
    base = (NOW - timedelta(days=8)).replace(minute=0, second=0)
    for record_type in ("egvs", "alerts", "events", "calibrations"):
        for hours in (3, 9, 15, 21):
            end = base + timedelta(hours=hours)
            short = records_of(record_type, key, end - timedelta(hours=30), end)
            longer = records_of(record_type, key, end - timedelta(hours=30), end + timedelta(days=2))
            assert not short or short == longer[-len(short) :], (record_type, hours)


@pytest.mark.django_db
def test_it_follows_daylight_saving_time_in_display_times():
    # New York falls back on the first Sunday of November: -04:00 before 06:00Z, -05:00 after.
    year = NOW.year if NOW.month > 11 or (NOW.month == 11 and NOW.day > 8) else NOW.year - 1
    sunday = next(
        datetime(year, 11, day, tzinfo=UTC) for day in range(1, 8) if datetime(year, 11, day).weekday() == 6
    )
    transition = sunday + timedelta(hours=6)
    if transition < NOW - timedelta(days=100):
        pytest.fail("the history should reach the last November transition")
    egvs = records_of(
        "egvs", "SandboxUser1", transition - timedelta(hours=2), transition + timedelta(hours=2)
    )
    offsets = {
        (r["systemTime"] < transition.strftime("%Y-%m-%dT%H:%M:%SZ"), r["displayTime"][-6:]) for r in egvs
    }
    assert offsets == {(True, "-04:00"), (False, "-05:00")}
