"""The devices page's rows: one display device (phone app or receiver) over its transmitters,
with schedules in words, current settings in the patient's unit and changes as from -> to.
Times are the device's wall clock (apps.glucose.localtime), values via apps.glucose.units."""

from datetime import datetime

from apps.glucose import alert_settings
from apps.glucose.alert_kinds import alert_kind
from apps.glucose.localtime import device_local_time
from apps.glucose.units import convert_setting_value


def _override_text(override, history, tzinfo) -> str:
    if not isinstance(override, dict) or not override.get("isOverrideEnabled"):
        return "—"
    mode = override.get("mode") or "on"
    try:
        until = datetime.fromisoformat(str(override.get("endTime")).replace("Z", "+00:00"))
    except ValueError:
        return mode
    if until.tzinfo is not None:  # an instant: shown on the device's clock like every time
        until = history.local(until, tzinfo=tzinfo)
    return f"{mode} until {until:%-d %b %H:%M}"


def _schedule_rows(device, history, tzinfo) -> list[dict]:
    rows = []
    for schedule in sorted(device.schedules.all(), key=lambda s: (not s.is_default, s.name)):
        rows.append(
            {
                "name": "Default" if schedule.is_default else schedule.name,
                "enabled": schedule.is_enabled,
                "days": alert_settings.schedule_days_text(schedule.days_of_week),
                "times": alert_settings.schedule_times_text(schedule.start_time, schedule.end_time),
                "active": schedule.is_active,
                "override": _override_text(schedule.override, history, tzinfo),
            }
        )
    return rows


def _setting_rows(history, *, unit: str, tzinfo) -> list[dict]:
    rows = []
    for version in alert_settings.current_settings(history.versions):
        value, value_unit = convert_setting_value(version.value, version.unit, unit)
        since = version.system_time or version.valid_from
        rows.append(
            {
                "schedule": version.schedule_name or "Default",
                "label": alert_kind(version.alert_name).label,
                "colour": alert_kind(version.alert_name).colour,
                "value": "—" if version.value is None else f"{value} {value_unit}",
                "version": version,
                "since": device_local_time(since, delta_seconds=version.display_delta_seconds, tzinfo=tzinfo),
            }
        )
    return rows


def display_item(history, *, unit: str, tzinfo) -> dict:
    newest = history.newest
    return {
        "label": history.label,
        "newest": newest,
        "transmitters": [
            {"device": device, "last_upload": history.local(device.last_upload_date, tzinfo=tzinfo)}
            for device in reversed(history.devices)
        ],
        "schedules": _schedule_rows(newest, history, tzinfo),
        "settings": _setting_rows(history, unit=unit, tzinfo=tzinfo),
        "changes": list(reversed(alert_settings.history_changes(history, unit=unit, tzinfo=tzinfo))),
        "first_known": history.local(history.first_known, tzinfo=tzinfo),
    }
