"""Devices with their alert schedules and the history of their settings, validated and written.

Quarantine at the smallest unit: a device that cannot be stored raises BadRecord; a bad schedule
or alert setting is returned as Quarantined and the rest of the device is stored.
"""

import hashlib
from datetime import UTC, datetime

import orjson
from django.utils import timezone

from apps.dexcom.times import DexcomTimeError, parse_dexcom_time, parse_utc
from apps.glucose import snapshots
from apps.glucose.models import AlertSchedule, AlertSettingVersion, Device
from apps.sync.records import BadRecord, Quarantined, display_delta_seconds, text_of


def device_key(raw: dict) -> str:
    """transmitterId, or generation/device/app for the new users Dexcom sends "" for."""
    transmitter = raw.get("transmitterId") or ""
    if transmitter:
        return transmitter
    parts = [raw.get("transmitterGeneration"), raw.get("displayDevice"), raw.get("displayApp")]
    return "/".join(str(p or "") for p in parts)[:128]


def write_device(raw, *, patient_id: int) -> list[Quarantined]:
    """Upsert one device with its schedules; add a settings version only when content changed.

    Quarantine at the smallest unit: a device that cannot be stored raises BadRecord; a bad
    schedule or alert setting is left out (its last good version stays current) and returned,
    and the device with everything else is stored.
    """
    if not isinstance(raw, dict):
        raise BadRecord("device is not a JSON object")
    try:
        last_upload = parse_utc(raw["lastUploadDate"]) if raw.get("lastUploadDate") else None
    except DexcomTimeError as error:
        raise BadRecord(f"lastUploadDate is not a time ({error})") from error
    schedules = raw.get("alertSchedules") or []
    if not isinstance(schedules, list):
        raise BadRecord("alertSchedules is not a list")
    key = device_key(raw)
    parsed, bad = [], []
    for index, item in enumerate(schedules):  # validate all before writing any
        try:
            fields, settings_rows, bad_settings = _schedule(item, device=key)
        except BadRecord as error:
            bad.append(Quarantined(raw=item, record_id=f"{key}/schedule {index}"[:128], reason=str(error)))
            continue
        parsed.append((fields, settings_rows))
        bad += bad_settings
    device, _ = Device.objects.update_or_create(
        patient_id=patient_id,
        device_key=key,
        defaults={
            "transmitter_id": text_of(raw, "transmitterId", max_length=64),
            "transmitter_generation": text_of(raw, "transmitterGeneration", max_length=32),
            "transmitter_generation_variant": text_of(raw, "transmitterGenerationVariant", max_length=32),
            "display_device": text_of(raw, "displayDevice", max_length=32),
            "display_app": text_of(raw, "displayApp", max_length=32),
            "last_upload_date": last_upload,
        },
    )
    for schedule_fields, settings_rows in parsed:
        AlertSchedule.objects.update_or_create(
            device=device, name=schedule_fields.pop("name"), defaults=schedule_fields
        )
        for setting in settings_rows:
            _record_setting_version(device, setting)
    return bad


def _schedule(item, *, device: str) -> tuple[dict, list[dict], list[Quarantined]]:
    """The schedule's fields, its good settings and its quarantined ones."""
    if not isinstance(item, dict) or not isinstance(item.get("alertScheduleSettings"), dict):
        raise BadRecord("alert schedule without alertScheduleSettings")
    settings = item["alertScheduleSettings"]
    name = settings.get("alertScheduleName") or ""
    if not isinstance(name, str) or len(name) > 64:
        raise BadRecord("alertScheduleName is not text of at most 64 characters")
    days = settings.get("daysOfWeek") or []
    fields = {
        "name": name,
        "is_enabled": bool(settings.get("isEnabled")),
        "is_default": bool(settings.get("isDefaultSchedule", name == "")),
        "start_time": str(settings.get("startTime") or "")[:16],
        "end_time": str(settings.get("endTime") or "")[:16],
        # Dexcom has sent empty strings inside daysOfWeek.
        "days_of_week": [d for d in days if isinstance(d, str) and d] if isinstance(days, list) else [],
        "is_active": _typed(settings.get("isActive"), bool),
        "override": _typed(settings.get("override"), dict),
    }
    alert_settings = item.get("alertSettings") or []
    if not isinstance(alert_settings, list):
        raise BadRecord("alertSettings is not a list")
    good, bad = [], []
    for index, raw in enumerate(alert_settings):
        try:
            good.append(_setting(name, raw))
        except BadRecord as error:
            alert = raw.get("alertName") if isinstance(raw, dict) else None
            which = alert if isinstance(alert, str) and alert else f"setting {index}"
            bad.append(Quarantined(raw=raw, record_id=f"{device}/{name}/{which}"[:128], reason=str(error)))
    return fields, _newest_per_alert(name, good), bad


def _typed(value, kind):
    return value if isinstance(value, kind) else None


def _setting(schedule_name: str, raw) -> dict:
    if not isinstance(raw, dict):
        raise BadRecord("alert setting is not a JSON object")
    system_time = display_delta = None
    if raw.get("systemTime"):
        try:
            system_time = parse_utc(raw["systemTime"])
            if raw.get("displayTime"):
                display = parse_dexcom_time(raw["displayTime"])
                display_delta = display_delta_seconds(system_time, display, display_text=raw["displayTime"])
        except DexcomTimeError as error:
            raise BadRecord(f"alert setting time is not a time ({error})") from error
    # Both spellings exist in the wild (the doc sample capitalises it).
    secondary = raw.get("secondaryTriggerCondition", raw.get("SecondaryTriggerCondition"))
    content = {
        "alert_name": text_of(raw, "alertName", max_length=32),
        "value": _number_or_none(raw.get("value"), "value"),
        "unit": text_of(raw, "unit", max_length=16),
        "snooze": _int_or_none(raw.get("snooze"), "snooze"),
        "enabled": bool(raw.get("enabled")),
        "delay": _int_or_none(raw.get("delay"), "delay"),
        "secondary_trigger_condition": _int_or_none(secondary, "secondaryTriggerCondition"),
        "sound_theme": text_of(raw, "soundTheme", max_length=16),
        "sound_output_mode": text_of(raw, "soundOutputMode", max_length=16),
    }
    if not content["alert_name"]:
        raise BadRecord("alert setting without alertName")
    return {
        **content,
        "schedule_name": schedule_name,
        "system_time": system_time,
        "display_delta_seconds": display_delta,
        # The adjustment time is part of the version: a setting changed back to an earlier
        # value is a new version, not the old one.
        "content_hash": _hash({**content, "system_time": system_time.isoformat() if system_time else None}),
    }


def _number_or_none(value, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRecord(f"alert setting {name} {str(orjson.dumps(value), 'utf-8')[:40]} is not a number")
    return float(value)


def _int_or_none(value, name: str) -> int | None:
    number = _number_or_none(value, name)
    return None if number is None else int(number)


def _newest_per_alert(schedule_name: str, settings: list[dict]) -> list[dict]:
    # Dexcom has sent the same alertName twice in one schedule: the newest adjustment wins.
    newest: dict[str, dict] = {}
    for setting in settings:
        current = newest.get(setting["alert_name"])
        if current is None or _adjusted_at(setting) >= _adjusted_at(current):
            newest[setting["alert_name"]] = setting
    return list(newest.values())


def _adjusted_at(setting: dict) -> datetime:
    return setting["system_time"] or datetime.min.replace(tzinfo=UTC)


def _hash(content: dict) -> str:
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _record_setting_version(device: Device, setting: dict) -> None:
    latest = (
        AlertSettingVersion.objects.filter(
            device=device, schedule_name=setting["schedule_name"], alert_name=setting["alert_name"]
        )
        .order_by("-observed_at")  # the version written last is the current one
        .values_list("content_hash", flat=True)
        .first()
    )
    if latest == setting["content_hash"]:
        return
    AlertSettingVersion.objects.bulk_create(
        [AlertSettingVersion(device=device, valid_from=setting["system_time"] or timezone.now(), **setting)],
        ignore_conflicts=True,
    )
    # The unit the device shows may have changed, and the triage figures count bands in it.
    snapshots.forget(patient_id=device.patient_id)
