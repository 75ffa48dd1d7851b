"""Dexcom API v3 records (plain dicts, as the JSON will carry them) built from generator output.

Pure like the generator package: callers pass the profile, the window (UTC epoch seconds, start inclusive,
end exclusive, by systemTime) and `visible_until` (now minus Dexcom's data delay).
"""

import hashlib
import uuid

import numpy as np

from apps.sandbox import dexcom_time, generator
from apps.sandbox.generator import DAY_SECONDS, EgvSeries, Trace
from apps.sandbox.profiles import SandboxProfile

RECORD_NAMESPACE = uuid.UUID("4f1d2a8e-6c1b-5f7a-9d3e-0b2c4e6f8a10")
_NAMESPACE_BYTES = RECORD_NAMESPACE.bytes
RECORD_TYPES = ("egvs", "alerts", "calibrations", "events", "devices")
WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]


def record_id(name: str) -> str:
    """uuid5(RECORD_NAMESPACE, name)."""
    return record_ids([name])[0]


def record_ids(names: list[str]) -> list[str]:
    """uuid5(RECORD_NAMESPACE, name) for many names at once (/egvs makes thousands per call).

    Same result as uuid.uuid5, with the version and variant bits set for all digests in one go.
    """
    digests = b"".join([hashlib.sha1(_NAMESPACE_BYTES + name.encode()).digest()[:16] for name in names])
    raw = np.frombuffer(digests, dtype=np.uint8).reshape(-1, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x50
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    text = raw.tobytes().hex()
    return [
        f"{text[i : i + 8]}-{text[i + 8 : i + 12]}-{text[i + 12 : i + 16]}-{text[i + 16 : i + 20]}-{text[i + 20 : i + 32]}"
        for i in range(0, len(text), 32)
    ]


def user_id(*, sandbox_user_key: str, client_id: str) -> str:
    """64 hex characters, different for the same account under another client (as documented)."""
    return hashlib.sha256(f"dexweb-emulator/{client_id}/{sandbox_user_key}".encode()).hexdigest()


# --- Shared pieces ------------------------------------------------------------------------------


def _times(profile: SandboxProfile, instants, *, style: str | None = None, drop_seconds=False):
    instants = np.asarray(instants, dtype=np.int64)
    offsets = generator.zone_offsets(profile.timezone, instants)
    return dexcom_time.format_times(
        instants, offsets, style=style or profile.time_style, drop_seconds=drop_seconds
    )


def _transmitters(profile: SandboxProfile, instants: np.ndarray):
    """transmitterId and transmitterTicks (seconds since the transmitter started) per instant."""
    indexes = generator.transmitter_index(profile, generator.session_index(profile, instants))
    ids, starts = {}, {}
    for index in np.unique(indexes).tolist():
        ids[index] = generator.transmitter_id(profile, index)
        starts[index] = generator.transmitter_start(profile, index)
    index_list = indexes.tolist()
    return [ids[i] for i in index_list], [
        int(t) - starts[i] for t, i in zip(instants.tolist(), index_list, strict=False)
    ]


def _device_fields(profile: SandboxProfile) -> dict:
    return {
        "displayDevice": profile.display_device,
        "transmitterGeneration": profile.generation,
        "transmitterGenerationVariant": profile.variant,
    }


# --- EGVs ---------------------------------------------------------------------------------------


def egv_records(profile: SandboxProfile, series: EgvSeries) -> list[dict]:
    times = series.times
    system, display = _times(profile, times)
    if series.from_receiver.any():
        # A receiver uploaded these (generator.late_upload): its own device fields and times.
        receiver_system, receiver_display = _times(profile, times, style="receiver")
        pick = series.from_receiver.tolist()
        system = [r if p else a for a, r, p in zip(system, receiver_system, pick, strict=False)]
        display = [r if p else a for a, r, p in zip(display, receiver_display, pick, strict=False)]
    transmitter_ids, ticks = _transmitters(profile, times)
    ids = record_ids(
        [
            f"{profile.key}/{'egv-recorded' if recorded else 'egv'}/{t}"
            for t, recorded in zip(times.tolist(), series.recorded.tolist(), strict=False)
        ]
    )
    statuses = {39: "low", 401: "high"}
    rates = [None if rate != rate else rate for rate in series.trend_rates.tolist()]
    generation, variant = profile.generation, profile.variant
    phone = (profile.display_device, profile.display_app)
    devices = [("receiver", "receiver") if p else phone for p in series.from_receiver.tolist()]
    return [
        {
            "recordId": recordid,
            "systemTime": system_time,
            "displayTime": display_time,
            "transmitterId": transmitter,
            "transmitterTicks": tick,
            "value": value,
            "status": statuses.get(value),
            "trend": trend,
            "trendRate": rate,
            "unit": "mg/dL",
            "rateUnit": "mg/dL/min",
            "displayDevice": device,
            "transmitterGeneration": generation,
            "transmitterGenerationVariant": variant,
            "displayApp": app,
        }
        for recordid, system_time, display_time, transmitter, tick, value, trend, rate, (device, app) in zip(
            ids,
            system,
            display,
            transmitter_ids,
            ticks,
            series.values.tolist(),
            series.trends.tolist(),
            rates,
            devices,
            strict=False,
        )
    ]


def series_for(profile, start, end, *, visible_until, trace: Trace | None, live: bool = False) -> EgvSeries:
    first_allowed = generator.history_start(visible_until)
    return generator.egv_series(
        profile, start, end, first_allowed=first_allowed, visible_until=visible_until, trace=trace, live=live
    )


# --- Alerts -------------------------------------------------------------------------------------


def alert_records(profile, start, end, *, visible_until, trace=None) -> list[dict]:
    # The phone alarmed on what it had live: a stretch uploaded late was a gap then. A day on
    # either side of the window: an alarm near its start needs the reading before (a gap's
    # start), one near its end the readings after (a gap's end, whether a condition lasted), so
    # the same alerts come out whichever window they are asked in.
    series = series_for(
        profile,
        start - DAY_SECONDS,
        end + DAY_SECONDS,
        visible_until=visible_until,
        trace=trace,
        live=True,
    )
    found = generator.glucose_alerts(profile, series) + generator.gap_alerts(profile, series)
    found = sorted(
        (alert for alert in found if start <= alert.time < end and alert.time <= visible_until),
        key=lambda alert: (alert.time, alert.name, alert.state),
    )
    times = np.array([alert.time for alert in found], dtype=np.int64)
    system, display = _times(profile, times)
    transmitter_ids, _ = _transmitters(profile, np.array([a.reading_time for a in found], dtype=np.int64))
    return [
        {
            "recordId": record_id(f"{profile.key}/alert/{alert.name}/{alert.state}/{alert.time}"),
            "systemTime": system_time,
            "displayTime": display_time,
            "alertName": alert.name,
            "alertState": alert.state,
            **_device_fields(profile),
            "transmitterId": transmitter,
            "displayApp": profile.display_app,
        }
        for alert, system_time, display_time, transmitter in zip(
            found, system, display, transmitter_ids, strict=False
        )
    ]


# --- Calibrations -------------------------------------------------------------------------------


def calibration_records(profile, start, end, *, visible_until, trace=None) -> list[dict]:
    if not profile.calibrates:
        return []
    series = series_for(profile, start - 600, end + 600, visible_until=visible_until, trace=trace, live=True)
    plans = generator.day_plans(profile, start, end)
    found = [
        (at, value)
        for at, value in generator.calibrations(profile, series, plans)
        if start <= at < end and at <= visible_until
    ]
    times = np.array([at for at, _ in found], dtype=np.int64)
    system, display = _times(profile, times)
    transmitter_ids, ticks = _transmitters(profile, times)
    return [
        {
            "recordId": record_id(f"{profile.key}/calibration/{at}"),
            "systemTime": system_time,
            "displayTime": display_time,
            "unit": "mg/dL",
            "value": value,
            "displayDevice": profile.display_device,
            "transmitterId": transmitter,
            "transmitterTicks": tick,
            "transmitterGeneration": profile.generation,
            "transmitterGenerationVariant": profile.variant,
        }
        for (at, value), system_time, display_time, transmitter, tick in zip(
            found, system, display, transmitter_ids, ticks, strict=False
        )
    ]


# --- Events -------------------------------------------------------------------------------------


def _events_in(profile, start, end, *, visible_until, trace=None):
    plans = generator.day_plans(profile, start, end)

    def glucose_at(instant):
        return generator.glucose_mgdl(profile, np.array([instant]), plans)[0]

    first_allowed = generator.history_start(visible_until)
    return [
        event
        for event in generator.planned_events(profile, plans, glucose_at)
        if start <= event.time < end and first_allowed <= event.time <= visible_until
    ]


def _as_published(event: generator.PlannedEvent, visible_until: int) -> tuple[str, str | None, int]:
    """(eventStatus, value, recorded time) as Dexcom shows the event at `visible_until`."""
    if event.edit and event.edit[1] <= visible_until:
        status, edited_at, value = event.edit
        return status, value, edited_at
    # Entered in the app up to a few minutes after the fact.
    return "created", event.value, event.time + 60 * (generator.stable_int(event.key) % 4)


def event_records(profile, start, end, *, visible_until, trace=None) -> list[dict]:
    """Events as Dexcom shows them at `visible_until`: an edit is visible once it has been made."""
    events = sorted(
        _events_in(profile, start, end, visible_until=visible_until), key=lambda e: (e.time, e.key)
    )
    published = [_as_published(event, visible_until) for event in events]
    times = np.array([event.time for event in events], dtype=np.int64)
    # The quirk user's app sends event times without seconds ("2026-01-05T14:15Z").
    system, display = _times(profile, times, drop_seconds=profile.quirks)
    recorded_system, recorded_display = _times(profile, [recorded_at for _, _, recorded_at in published])
    transmitter_ids, _ = _transmitters(profile, times)
    return [
        {
            "systemTime": system[n],
            "displayTime": display[n],
            "recordId": record_id(f"{profile.key}/event/{event.key}"),
            "eventStatus": status,
            "eventType": event.event_type,
            "eventSubType": event.sub_type,
            "value": value,
            "unit": event.unit,
            "transmitterId": transmitter_ids[n],
            "transmitterGeneration": profile.generation,
            "transmitterGenerationVariant": profile.variant,
            "displayDevice": profile.display_device,
            "recordedSystemTime": recorded_system[n],
            "recordedDisplayTime": recorded_display[n],
        }
        for n, (event, (status, value, _)) in enumerate(zip(events, published, strict=False))
    ]


# --- Devices ------------------------------------------------------------------------------------


def _setting_value(profile: SandboxProfile, setting: generator.AlertSetting):
    """Value and unit in the device's own display unit (mmol/L devices send mmol/L, as floats)."""
    name, value = setting.alert_name, setting.value_mgdl
    if name in ("outOfRange", "noReadings"):
        return (None if value is None else int(value)), "minutes"
    if name in generator.RATE_ALERTS:
        if profile.glucose_unit == "mmol/L":
            return round(value / generator.MGDL_PER_MMOLL, 2), "mmol/L/min"
        return int(value), "mg/dL/min"
    if profile.glucose_unit == "mmol/L":
        return round(value / generator.MGDL_PER_MMOLL, 1), "mmol/L"
    return int(value), "mg/dL"


def _alert_settings(profile, schedule: str, version: int, style: str) -> list[dict]:
    settings = [
        generator.alert_setting(profile, schedule, name, version) for name in generator.alert_names(profile)
    ]
    system, display = _times(profile, [setting.changed_at for setting in settings], style=style)
    found = []
    for setting, system_time, display_time in zip(settings, system, display, strict=False):
        value, unit = _setting_value(profile, setting)
        found.append(
            {
                "alertName": setting.alert_name,
                "value": value,
                "unit": unit,
                "snooze": setting.snooze,
                "enabled": setting.enabled,
                "systemTime": system_time,
                "displayTime": display_time,
                "delay": setting.delay,
                # Dexcom's sample spells it capitalised, the schema in lower case: send both.
                "secondaryTriggerCondition": setting.secondary,
                "SecondaryTriggerCondition": setting.secondary,
                "soundTheme": setting.sound_theme,
                "soundOutputMode": setting.sound_output_mode,
            }
        )
    return found


def _schedules(profile: SandboxProfile, at: int, style: str) -> list[dict]:
    version = generator.settings_version(profile, at)
    local_minute = (
        (at + int(generator.zone_offsets(profile.timezone, np.array([at]))[0])) % DAY_SECONDS
    ) // 60
    with_night = generator.has_night_schedule(profile, version)
    night_now = with_night and bool(generator.is_night(np.array([local_minute]))[0])
    midnight = "0:00" if profile.quirks else "00:00"  # unpadded times are seen in real data
    quiet_until = dexcom_time.utc_z(at + 3600) if profile.quiet_override else None
    default = {
        "alertScheduleSettings": {
            "alertScheduleName": "",
            "isEnabled": True,
            "isDefaultSchedule": True,
            "startTime": midnight,
            "endTime": midnight,
            "daysOfWeek": list(WEEKDAYS),
            "isActive": not night_now,
            "override": {
                "isOverrideEnabled": quiet_until is not None,
                "mode": "quiet" if quiet_until else "unknown",
                "endTime": quiet_until,
            },
        },
        "alertSettings": _alert_settings(profile, "", version, style),
    }
    if not with_night:
        return [default]
    night = {
        "alertScheduleSettings": {
            "alertScheduleName": "Night",
            "isEnabled": True,
            "isDefaultSchedule": False,
            "startTime": "22:00",
            "endTime": "07:00",
            "daysOfWeek": list(WEEKDAYS),
            "isActive": night_now,
            "override": None,
        },
        "alertSettings": _alert_settings(profile, "Night", version, style),
    }
    return [default, night]


def _transmitter_uploads(profile: SandboxProfile, *, last_upload: int) -> list[tuple[int, int]]:
    """(transmitter, its last upload) of every transmitter the display device used within the
    history, oldest first: a transmitter's last upload is shortly before the next one started."""
    first, current = generator.transmitter_index(
        profile,
        generator.session_index(profile, np.array([generator.history_start(last_upload), last_upload])),
    ).tolist()
    uploads = []
    for index in range(max(first, 0), current):
        ended = generator.transmitter_start(profile, index + 1) - 10 * 60
        uploads.append((index, ended - ended % 60))
    return uploads + [(current, last_upload)]


def _device_record(profile, *, transmitter: int, uploaded: int, display_device, display_app, style) -> dict:
    return {
        "lastUploadDate": dexcom_time.utc_z(uploaded),
        "transmitterId": generator.transmitter_id(profile, transmitter),
        "transmitterGeneration": profile.generation,
        "transmitterGenerationVariant": profile.variant,
        "displayDevice": display_device,
        "displayApp": display_app,
        "alertSchedules": _schedules(profile, uploaded, style),
    }


def _extra_uploads(profile: SandboxProfile, *, visible_until: int, last_upload: int) -> list[tuple]:
    """(extra device, transmitter, last upload) of the user's other display devices."""
    uploads = []
    for number, extra in enumerate(profile.extra_devices):
        if extra.retired:
            # Used until 20 days into the history, then replaced by the phone.
            uploaded = generator.history_start(visible_until) + 20 * DAY_SECONDS + 3600 * (number + 1)
        else:
            # A receiver docked once a day, at 18:00 UTC: the newest such upload.
            uploaded = last_upload - last_upload % DAY_SECONDS + 18 * 3600
            if uploaded > last_upload:
                uploaded -= DAY_SECONDS
        transmitter = generator.transmitter_index(
            profile, generator.session_index(profile, np.array([uploaded]))
        )[0]
        uploads.append((extra, int(transmitter), uploaded))
    return uploads


def device_records(profile: SandboxProfile, *, visible_until: int) -> list[dict]:
    """The user's display devices with schedules and settings as of their last upload.

    Dexcom lists every receiver-type device that contributed data, each with its transmitter
    and the settings "as of the lastUploadDate": so the phone app comes once per transmitter
    it used (oldest first), each with the settings it had then, which is how a client sees
    the settings history. A user whose transmitterId is "" (Dexcom's new users) is listed once.
    A past transmitter the phone shared with another display device is left out: clients key
    devices by transmitterId, and the other device's record stands for it.
    """
    last_upload = visible_until - visible_until % 60
    extras = _extra_uploads(profile, visible_until=visible_until, last_upload=last_upload)
    shared = {transmitter for _, transmitter, _ in extras}
    uploads = _transmitter_uploads(profile, last_upload=last_upload)
    current = uploads[-1]
    uploads = [u for u in uploads[:-1] if u[0] not in shared and not profile.quirks] + [current]
    devices = [
        _device_record(
            profile,
            transmitter=transmitter,
            uploaded=uploaded,
            display_device=profile.display_device,
            display_app=profile.display_app,
            style=profile.time_style,
        )
        for transmitter, uploaded in uploads
    ]
    devices += [
        _device_record(
            profile,
            transmitter=transmitter,
            uploaded=uploaded,
            display_device=extra.display_device,
            display_app=extra.display_app,
            style=extra.time_style,
        )
        for extra, transmitter, uploaded in extras
    ]
    return devices


# --- Windows and data ranges --------------------------------------------------------------------


def window_records(profile, record_type: str, start: int, end: int, *, visible_until: int, trace=None):
    """Records of one type in [start, end), newest first (the order of Dexcom's own samples)."""
    if record_type == "devices":
        return device_records(profile, visible_until=visible_until)
    if record_type == "egvs":
        found = egv_records(
            profile, series_for(profile, start, end, visible_until=visible_until, trace=trace)
        )
    elif record_type == "alerts":
        found = alert_records(profile, start, end, visible_until=visible_until, trace=trace)
    elif record_type == "calibrations":
        found = calibration_records(profile, start, end, visible_until=visible_until, trace=trace)
    elif record_type == "events":
        found = event_records(profile, start, end, visible_until=visible_until)
    else:
        raise ValueError(f"unknown record type {record_type!r}; expected one of {', '.join(RECORD_TYPES)}")
    found.reverse()
    return found


def _instants(profile, record_type, start, end, *, visible_until, trace):
    if record_type == "egvs":
        return series_for(profile, start, end, visible_until=visible_until, trace=trace).times.tolist()
    if record_type == "events":
        return sorted(event.time for event in _events_in(profile, start, end, visible_until=visible_until))
    series = series_for(profile, start - 600, end + 600, visible_until=visible_until, trace=trace, live=True)
    plans = generator.day_plans(profile, start, end)
    return [
        at
        for at, _ in generator.calibrations(profile, series, plans)
        if start <= at < end and at <= visible_until
    ]


def _first_after(profile, record_type, after: int, *, visible_until, trace) -> int | None:
    chunk = 5 * DAY_SECONDS
    cursor = after
    while cursor <= visible_until:
        found = _instants(
            profile,
            record_type,
            cursor,
            min(cursor + chunk, visible_until + 1),
            visible_until=visible_until,
            trace=trace,
        )
        if found:
            return int(found[0])
        cursor += chunk
    return None


def _last_before(profile, record_type, after: int, *, visible_until, trace) -> int | None:
    chunk = 5 * DAY_SECONDS
    cursor = visible_until + 1
    while cursor > after:
        found = _instants(
            profile, record_type, max(cursor - chunk, after), cursor, visible_until=visible_until, trace=trace
        )
        if found:
            return int(found[-1])
        cursor -= chunk
    return None


def _late_egv_times(profile, *, after: int, visible_until: int, trace) -> list[int]:
    """systemTimes (at most `after`) of readings that arrived in (after, visible_until]."""
    found = []
    for late in generator.late_uploads(profile, after - generator.LATE_REACH_SECONDS, after + 1):
        if after < late.arrival <= visible_until:
            series = series_for(
                profile, late.start, min(late.end, after + 1), visible_until=visible_until, trace=trace
            )
            found += series.times[series.arrivals > after].tolist()
    return found


def _range_of(profile, record_type, after: int, *, last_sync: int | None, visible_until: int, trace):
    """(first, last) systemTime of the data that arrived after `after`, or None.

    Only EGVs arrive late; everything else arrives at its systemTime.
    """
    first = _first_after(profile, record_type, after, visible_until=visible_until, trace=trace)
    last = None
    if first is not None:
        last = _last_before(profile, record_type, first, visible_until=visible_until, trace=trace)
    late = []
    if record_type == "egvs" and last_sync is not None:
        late = _late_egv_times(profile, after=last_sync, visible_until=visible_until, trace=trace)
    if first is None and not late:
        return None
    candidates = [t for t in (first, last) if t is not None] + late
    return min(candidates), max(candidates)


def data_range(profile, *, visible_until: int, last_sync: int | None = None, trace=None) -> dict:
    """Start and end (systemTime) of each record type, as Dexcom's dataRange sends them.

    With last_sync, only data that ARRIVED after it, else null: the documented "date ranges for
    new data AFTER that date time". A stretch uploaded late counts as new when it arrives, so
    the start can lie before last_sync (and before the client's cursor).
    """
    earliest = generator.history_start(visible_until)
    if trace is not None and trace.times.size:
        earliest = min(earliest, int(trace.times[0]))
    after = earliest if last_sync is None else max(earliest, last_sync + 1)
    ranges = {}
    for record_type in ("calibrations", "egvs", "events"):
        if record_type == "calibrations" and not profile.calibrates:
            ranges[record_type] = None  # G7 users never calibrate
            continue
        span = _range_of(
            profile, record_type, after, last_sync=last_sync, visible_until=visible_until, trace=trace
        )
        if span is None:
            ranges[record_type] = None
            continue
        system, display = _times(profile, np.array(span, dtype=np.int64))
        ranges[record_type] = {
            "start": {"systemTime": system[0], "displayTime": display[0]},
            "end": {"systemTime": system[1], "displayTime": display[1]},
        }
    return ranges
