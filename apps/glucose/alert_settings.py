"""Alert settings over time: which device raised an alert, which schedule was active, and what
the threshold was at that moment. Pure functions over rows the selectors loaded."""

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime

from apps.glucose.alert_kinds import alert_kind
from apps.glucose.localtime import device_local_time
from apps.glucose.units import convert_setting_value

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SETTING_FIELDS = (
    "value",
    "unit",
    "enabled",
    "snooze",
    "delay",
    "secondary_trigger_condition",
    "sound_theme",
    "sound_output_mode",
)


def _minutes(text: str) -> int | None:
    """'22:30', '0:00', '7:00 PM' and Dexcom's hours up to 47 (the next day) as minutes."""
    text = (text or "").strip().upper()
    pm, am = text.endswith("PM"), text.endswith("AM")
    text = text.removesuffix("PM").removesuffix("AM").strip()
    try:
        hours, minutes = (int(part) for part in text.split(":")[:2])
    except ValueError:
        return None
    if pm and hours < 12:
        hours += 12
    if am and hours == 12:
        hours = 0
    return hours * 60 + minutes


def schedule_covers(schedule, local_time: datetime) -> bool:
    """Whether an enabled non-default schedule is in force at a local wall-clock time."""
    start, end = _minutes(schedule.start_time), _minutes(schedule.end_time)
    if start is None or end is None or not schedule.is_enabled:
        return False
    minute = local_time.hour * 60 + local_time.minute
    days = {str(day).lower() for day in schedule.days_of_week or [] if day}
    today = WEEKDAYS[local_time.weekday()]
    yesterday = WEEKDAYS[(local_time.weekday() - 1) % 7]
    end_in_day = end % 1440
    if end > start and end <= 1440:
        return today in days and start <= minute < end
    # Past midnight: the part before midnight belongs to today, the rest to yesterday's night.
    return (today in days and minute >= start) or (yesterday in days and minute < end_in_day)


def active_schedule_name(schedules, local_time: datetime) -> str:
    for schedule in schedules:
        if not schedule.is_default and schedule_covers(schedule, local_time):
            return schedule.name
    default = next((s for s in schedules if s.is_default), None)
    return default.name if default else ""


def current_settings(versions) -> list:
    """The newest version of each (schedule, alert) of one device."""
    newest = {}
    for version in sorted(versions, key=lambda v: v.valid_from):
        newest[(version.schedule_name, version.alert_name)] = version
    return sorted(newest.values(), key=lambda v: (v.schedule_name, v.alert_name))


# --- One display device over its transmitters ---------------------------------------------------
#
# Dexcom lists a device record per transmitter that sent data, each with the alert schedules and
# settings as of that record's lastUploadDate. The settings belong to the display device (the
# phone app or the receiver the patient set them on), so the records of one display device,
# oldest upload first, are snapshots of one settings history.


def display_key(item) -> tuple[str, str]:
    """The display device a device row or a record belongs to: (displayDevice, displayApp)."""
    return (item.display_device or "", item.display_app or "")


def _content(version) -> tuple:
    return (
        version.schedule_name,
        version.alert_name,
        version.system_time,
        *(getattr(version, field) for field in SETTING_FIELDS),
    )


@dataclass
class DisplayHistory:
    """The settings history of one display device: its snapshots and every distinct version."""

    key: tuple[str, str]
    devices: list  # device rows, oldest last upload first
    versions: list  # distinct setting versions, by valid_from

    @property
    def label(self) -> str:
        device, app = self.key
        return f"{device} ({app})" if app and app != device else (device or "device")

    @property
    def newest(self):
        return self.devices[-1]

    def snapshot_at(self, moment: datetime):
        """The device row whose upload reported the settings of `moment`: the first uploaded at
        or after it (the one current then), else the newest."""
        for device in self.devices:
            if device.last_upload_date is not None and device.last_upload_date >= moment:
                return device
        return self.newest

    @property
    def first_known(self) -> datetime | None:
        return self.versions[0].valid_from if self.versions else None

    @property
    def delta_seconds(self) -> int | None:
        """The newest display delta this device reported: its wall clock for times it sends
        without one (lastUploadDate is UTC)."""
        deltas = [v.display_delta_seconds for v in self.versions if v.display_delta_seconds is not None]
        return deltas[-1] if deltas else None

    def local(self, moment: datetime | None, *, tzinfo) -> datetime | None:
        if moment is None:
            return None
        return device_local_time(moment, delta_seconds=self.delta_seconds, tzinfo=tzinfo)


def _upload_order(device):
    return (device.last_upload_date is None, device.last_upload_date or datetime.min, device.first_seen_at)


def display_histories(devices) -> list[DisplayHistory]:
    """Device rows (with prefetched settings) grouped per display device, newest upload first."""
    groups: dict[tuple, list] = {}
    for device in devices:
        groups.setdefault(display_key(device), []).append(device)
    histories = []
    for key, rows in groups.items():
        rows.sort(key=_upload_order)
        seen, versions = set(), []
        for version in sorted(
            (v for d in rows for v in d.setting_versions.all()), key=lambda v: (v.valid_from, v.observed_at)
        ):
            if _content(version) not in seen:  # two snapshots report the same setting
                seen.add(_content(version))
                versions.append(version)
        histories.append(DisplayHistory(key=key, devices=rows, versions=versions))
    return sorted(histories, key=lambda h: _upload_order(h.newest), reverse=True)


@dataclass(frozen=True)
class ThresholdThen:
    """The setting of an alert in force at a moment, or why it is not known."""

    version: object | None
    text: str

    @property
    def known(self) -> bool:
        return self.version is not None


class SettingsHistory:
    """Every display device's settings over time: what was in force when an alert went off."""

    def __init__(self, devices):
        self.histories = display_histories(devices)
        self._by_transmitter = {
            device.transmitter_id: history
            for history in self.histories
            for device in history.devices
            if device.transmitter_id
        }
        self._by_display = {history.key: history for history in self.histories}
        self._versions: dict[tuple, list] = {}
        for history in self.histories:
            for version in history.versions:
                key = (history.key, version.schedule_name, version.alert_name)
                self._versions.setdefault(key, []).append(version)
        self._times = {key: [v.valid_from for v in rows] for key, rows in self._versions.items()}

    def history_for(self, record) -> DisplayHistory | None:
        """The display device a record came from: its transmitter's, else its display's."""
        if record.transmitter_id and record.transmitter_id in self._by_transmitter:
            return self._by_transmitter[record.transmitter_id]
        history = self._by_display.get(display_key(record))
        if history is None and len(self.histories) == 1:
            return self.histories[0]
        return history

    def version_at(self, history: DisplayHistory, *, alert_name: str, moment: datetime, local_time: datetime):
        """The version in force: the schedule active then (in the snapshot of that time), else
        the default schedule's."""
        schedules = history.snapshot_at(moment).schedules.all()
        schedule = active_schedule_name(schedules, local_time)
        for name in dict.fromkeys((schedule, "")):
            key = (history.key, name, alert_name)
            if key in self._versions:
                index = bisect_right(self._times[key], moment) - 1
                if index >= 0:
                    return self._versions[key][index]
        return None

    def first_known(self, history: DisplayHistory, alert_name: str) -> datetime | None:
        times = [
            t
            for (key, _, name), rows in self._times.items()
            if key == history.key and name == alert_name
            for t in rows[:1]
        ]
        return min(times) if times else None

    def threshold_at(
        self, record, *, alert_name: str, moment: datetime, local_time: datetime, unit: str
    ) -> ThresholdThen:
        history = self.history_for(record)
        if history is None:
            return ThresholdThen(None, "unknown: no device on file for this alert")
        version = self.version_at(history, alert_name=alert_name, moment=moment, local_time=local_time)
        if version is None:
            first = self.first_known(history, alert_name)
            if first is None:
                return ThresholdThen(None, "unknown: the device reported no setting of this alert")
            return ThresholdThen(
                None, f"unknown: before the first known setting (first known {first:%-d %b %Y})"
            )
        text = " ".join(convert_setting_value(version.value, version.unit, unit))
        if version.value is None:
            text = "no threshold"
        if not version.enabled:
            text += " (alert off then)"
        return ThresholdThen(version, text)


# --- Changes in words ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingChange:
    """What the patient changed at one moment on one display device, in words."""

    at: datetime  # UTC
    local: datetime  # the device's wall clock (naive)
    first_seen: bool  # no adjustment time was reported: `at` is when we first saw it
    display: str
    lines: tuple[str, ...]
    alert_names: tuple[str, ...]


def schedule_times_text(start_time: str, end_time: str) -> str:
    """ "22:00–07:00"; a schedule from midnight to midnight is "all day"."""
    start, end = _minutes(start_time), _minutes(end_time)
    if start is not None and end is not None and start % 1440 == end % 1440:
        return "all day"
    return f"{start_time}–{end_time}"


def schedule_days_text(days) -> str:
    days = [str(day).lower() for day in days or [] if day]
    if set(days) >= set(WEEKDAYS):
        return "every day"
    return ", ".join(day[:3].capitalize() for day in WEEKDAYS if day in days) or "no days"


def _setting_label(version) -> str:
    label = alert_kind(version.alert_name).label
    schedule = f" ({version.schedule_name})" if version.schedule_name else ""
    return f"{label} alert{schedule}"


def _field_change_text(version, field: str, before, after, unit: str) -> str:
    name = _setting_label(version)
    if field == "value":
        old, _ = convert_setting_value(before, version.unit, unit)
        new, shown_unit = convert_setting_value(after, version.unit, unit)
        return f"{name} {old} → {new} {shown_unit}"
    if field == "enabled":
        return f"{name} turned {'on' if after else 'off'}"
    words = {
        "snooze": ("snooze", " min"),
        "delay": ("delay", " min"),
        "secondary_trigger_condition": ("secondary trigger", ""),
        "sound_theme": ("sound theme", ""),
        "sound_output_mode": ("sound output", ""),
        "unit": ("unit", ""),
    }
    word, suffix = words.get(field, (field, ""))
    old = "—" if before in (None, "") else f"{before}{suffix}"
    new = "—" if after in (None, "") else f"{after}{suffix}"
    return f"{name} {word} {old} → {new}"


def _version_local(version, tzinfo) -> tuple[datetime, datetime, bool]:
    """(UTC, device wall clock, first seen?) of a version: its adjustment time, else first seen."""
    at = version.system_time or version.valid_from
    local = device_local_time(at, delta_seconds=version.display_delta_seconds, tzinfo=tzinfo)
    return at, local, version.system_time is None


def _schedule_events(history: DisplayHistory) -> list[tuple[datetime, str, object]]:
    """(when, "added"/"removed", schedule) from one snapshot to the next."""
    events, previous = [], None
    for device in history.devices:
        schedules = {s.name: s for s in device.schedules.all() if not s.is_default}
        if previous is not None and device.last_upload_date is not None:
            for name in schedules.keys() - previous.keys():
                events.append((device.last_upload_date, "added", schedules[name]))
            for name in previous.keys() - schedules.keys():
                events.append((device.last_upload_date, "removed", previous[name]))
        previous = schedules
    return events


def _schedule_gap(events, version, before):
    """(schedule, since) when a version's schedule was (re)added before it, else None: added
    when it first shows in a later upload, added again when an upload between its versions did
    not have it (`since` is that upload, None for a first appearance)."""
    name = version.schedule_name
    if not name:
        return None
    since = None
    if before is not None:
        gaps = [
            when
            for when, kind, s in events
            if kind == "removed" and s.name == name and before.valid_from < when < version.valid_from
        ]
        if not gaps:
            return None
        since = gaps[-1]
    added = [
        s
        for when, kind, s in events
        if kind == "added" and s.name == name and (since is None or when > since)
    ]
    return (added[0], since) if added else None


def history_changes(history: DisplayHistory, *, unit: str, tzinfo) -> list[SettingChange]:
    """Every change of one display device, oldest first; the first known settings are no change.

    A schedule missing from an upload and shown by a later one is "added" at the adjustment
    time of its settings (when the patient set it up); one that an upload no longer shows is
    "no longer reported" at that upload (Dexcom says nothing of when it was deleted).
    """
    previous: dict[tuple, object] = {}
    moments: dict[datetime, dict] = {}
    events = _schedule_events(history)
    announced: set[tuple] = set()
    for version in history.versions:
        key = (version.schedule_name, version.alert_name)
        before = previous.get(key)
        previous[key] = version
        at, local, first_seen = _version_local(version, tzinfo)
        gap = _schedule_gap(events, version, before)
        if gap is not None:
            # The schedule's first setting after the gap announces it; its other settings are
            # first known settings of the new schedule, no change from the old one's.
            if (version.schedule_name, gap[1]) in announced:
                continue
            announced.add((version.schedule_name, gap[1]))
            schedule = gap[0]
            line = (
                f"{version.schedule_name} schedule added "
                f"({schedule_times_text(schedule.start_time, schedule.end_time)}, "
                f"{schedule_days_text(schedule.days_of_week)})"
            )
            _add_line(moments, at, local, first_seen, line, version.alert_name)
            continue
        if before is None:
            continue  # a first known setting: no change
        for field in SETTING_FIELDS:
            old, new = getattr(before, field), getattr(version, field)
            if old != new and not (field == "unit" and version.value != before.value):
                line = _field_change_text(version, field, old, new, unit)
                _add_line(moments, at, local, first_seen, line, version.alert_name)
    for when, kind, schedule in events:
        if kind == "removed":
            local = device_local_time(when, delta_seconds=history.delta_seconds, tzinfo=tzinfo)
            line = f"{schedule.name} schedule no longer reported (missing from this upload)"
            _add_line(moments, when, local, True, line, "")
    return [
        SettingChange(
            at=at,
            local=m["local"],
            first_seen=m["first_seen"],
            display=history.label,
            lines=tuple(m["lines"]),
            alert_names=tuple(dict.fromkeys(m["names"])),
        )
        for at, m in sorted(moments.items())
    ]


def _add_line(moments, at, local, first_seen, line, alert_name) -> None:
    moment = moments.setdefault(at, {"local": local, "first_seen": first_seen, "lines": [], "names": []})
    if line not in moment["lines"]:
        moment["lines"].append(line)
    if alert_name:
        moment["names"].append(alert_name)


def all_changes(devices, *, unit: str, tzinfo) -> list[SettingChange]:
    """Every settings change of the patient's display devices, oldest first."""
    changes = [
        change
        for history in display_histories(devices)
        for change in history_changes(history, unit=unit, tzinfo=tzinfo)
    ]
    return sorted(changes, key=lambda c: c.at)
