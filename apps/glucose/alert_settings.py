"""Alert settings over time: which device raised an alert, which schedule was active, and what
the threshold was at that moment. Pure functions over rows the selectors loaded."""

from bisect import bisect_right
from datetime import datetime

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SETTING_FIELDS = (
    "value", "unit", "enabled", "snooze", "delay", "secondary_trigger_condition", "sound_theme",
    "sound_output_mode",
)


def device_for_record(devices, record):
    """The device a record came from: same transmitter, else same display device and app."""
    if record.transmitter_id:
        for device in devices:
            if device.transmitter_id == record.transmitter_id:
                return device
    for device in devices:
        if (device.display_device, device.display_app) == (record.display_device, record.display_app):
            return device
    return devices[0] if len(devices) == 1 else None


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


class SettingTimeline:
    """Versions of every (device, schedule, alert) setting, searchable by time."""

    def __init__(self, versions):
        self._by_key: dict[tuple, list] = {}
        for version in sorted(versions, key=lambda v: v.valid_from):
            key = (version.device_id, version.schedule_name, version.alert_name)
            self._by_key.setdefault(key, []).append(version)
        self._times = {key: [v.valid_from for v in rows] for key, rows in self._by_key.items()}

    def at(self, *, device_id, schedule_name: str, alert_name: str, moment: datetime):
        """The version in force at `moment`, falling back to the default schedule's."""
        for name in dict.fromkeys((schedule_name, "")):
            key = (device_id, name, alert_name)
            if key in self._by_key:
                index = bisect_right(self._times[key], moment) - 1
                return self._by_key[key][index] if index >= 0 else None
        return None


def current_settings(versions) -> list:
    """The newest version of each (schedule, alert) of one device."""
    newest = {}
    for version in sorted(versions, key=lambda v: v.valid_from):
        newest[(version.schedule_name, version.alert_name)] = version
    return sorted(newest.values(), key=lambda v: (v.schedule_name, v.alert_name))


def settings_changes(versions) -> list[dict]:
    """What changed when: each version after the first of its setting, with the changed fields."""
    previous = {}
    changes = []
    for version in sorted(versions, key=lambda v: v.valid_from):
        key = (version.schedule_name, version.alert_name)
        before = previous.get(key)
        changed = [
            (field, getattr(before, field) if before else None, getattr(version, field))
            for field in SETTING_FIELDS
            if before is None or getattr(before, field) != getattr(version, field)
        ]
        changes.append({"version": version, "first": before is None, "changed": changed})
        previous[key] = version
    return list(reversed(changes))
