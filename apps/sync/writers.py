"""Writing synced records: bulk upserts on (patient, record_id), devices and their settings.

Everything here runs inside the caller's transaction. On PostgreSQL the record upsert streams the
rows with COPY into a temporary table and merges them with one INSERT ... ON CONFLICT DO UPDATE
(skipping rows whose content did not change, so re-reading an overlap writes nothing); elsewhere
it is Django's bulk_create(update_conflicts=True) in batches.
"""

import hashlib
import itertools
import logging
from datetime import UTC, datetime

import orjson
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.db import connection as db_connection
from django.utils import timezone

from apps.dexcom.times import DexcomTimeError, parse_dexcom_time, parse_utc
from apps.glucose import snapshots
from apps.glucose.models import (
    Alert,
    AlertSchedule,
    AlertSettingVersion,
    Calibration,
    Device,
    Egv,
    Event,
)
from apps.sync.records import BadRecord, Quarantined, display_delta_seconds

logger = logging.getLogger(__name__)

MODELS = {"egvs": Egv, "calibrations": Calibration, "alerts": Alert, "events": Event}
BATCH_SIZE = 2000
COPY_BATCH_SIZE = 50000
COPY_FRESH_MIN = 500
_temp_names = itertools.count()


def relax_commit_durability() -> None:
    """Inside a sync transaction on PostgreSQL: commit without waiting for the WAL flush.

    Safe here because the rows and the cursor that covers them commit together: if the database
    crashed and lost the last few hundred milliseconds of commits, the cursor would be back too
    and the next run would simply fetch those records again from Dexcom.
    """
    if db_connection.vendor == "postgresql":
        with db_connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def upsert_records(record_type: str, rows: list[dict]) -> int:
    """Insert or update rows keyed by (patient, record_id); returns how many were given."""
    if not rows:
        return 0
    model = MODELS[record_type]
    vendor = db_connection.vendor
    if vendor == "postgresql":
        for batch in _batches(rows, COPY_BATCH_SIZE):
            known = _copy_fresh(model, batch)
            if known:
                _copy_upsert(model, known)
    elif vendor == "sqlite":
        for batch in _batches(rows, BATCH_SIZE):
            _sqlite_upsert(model, batch)
    else:
        for batch in _batches(rows, BATCH_SIZE):
            _orm_upsert(model, batch)
    return len(rows)


def _batches(rows: list, size: int):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _fields(rows: list[dict]) -> list[str]:
    return list(rows[0].keys())


def _update_fields(fields: list[str]) -> list[str]:
    return [f for f in fields if f not in ("patient_id", "record_id")]


def _field(model, attname: str):
    return model._meta.get_field("patient" if attname == "patient_id" else attname)


def _column(model, attname: str) -> str:
    return _field(model, attname).column


def _orm_upsert(model, rows: list[dict]) -> None:
    fields = _fields(rows)
    model.objects.bulk_create(
        [model(**row) for row in rows],
        update_conflicts=True,
        unique_fields=["patient", "record_id"],
        update_fields=_update_fields(fields),
        batch_size=BATCH_SIZE,
    )


def _sqlite_upsert(model, rows: list[dict]) -> None:
    # executemany of one prepared upsert: Django's bulk_create caps SQLite statements at 999
    # parameters (~58 rows), and its per-value preparation dominates the time.
    table = model._meta.db_table
    fields = _fields(rows)
    columns = [_column(model, f) for f in fields]
    updates = [_column(model, f) for f in _update_fields(fields)]
    datetime_positions = [
        i for i, f in enumerate(fields) if _field(model, f).get_internal_type() == "DateTimeField"
    ]
    adapt = db_connection.ops.adapt_datetimefield_value
    values = []
    for row in rows:
        item = list(row.values())
        for i in datetime_positions:
            item[i] = adapt(item[i])
        values.append(item)
    column_list = ", ".join(f'"{c}"' for c in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    set_clause = ", ".join(f'"{c}" = excluded."{c}"' for c in updates)
    changed = " OR ".join(f'"{table}"."{c}" IS NOT excluded."{c}"' for c in updates)
    with db_connection.cursor() as cursor:
        cursor.executemany(
            f'INSERT INTO "{table}" ({column_list}) VALUES ({placeholders}) '
            f'ON CONFLICT ("patient_id", "record_id") DO UPDATE SET {set_clause} WHERE {changed}',
            values,
        )


def _copy_fresh(model, rows: list[dict]) -> list[dict]:
    """COPY straight into the table the rows newer than anything stored in the batch's time span
    (most of a backfill window: only the overlap with the previous window is stored already).
    Returns the rows left to upsert: the older ones, or all if a new row existed after all (a
    recordId stored under another time), in which case the savepoint undoes the COPY."""
    patient_ids = {row["patient_id"] for row in rows}
    if len(patient_ids) != 1:
        return rows
    times = [row["system_time"] for row in rows]
    stored_until = model.objects.filter(
        patient_id=next(iter(patient_ids)), system_time__gte=min(times), system_time__lte=max(times)
    ).aggregate(latest=Max("system_time"))["latest"]
    fresh = [r for r in rows if stored_until is None or r["system_time"] > stored_until]
    if len(fresh) < COPY_FRESH_MIN:
        return rows  # a few rows: one upsert is simpler and as fast
    table = model._meta.db_table
    column_names = [_column(model, f) for f in _fields(rows)]
    columns = ", ".join(f'"{c}"' for c in column_names)
    try:
        with transaction.atomic(), db_connection.cursor() as cursor:
            types = _column_types(cursor, table, table, column_names)
            with cursor.cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN (FORMAT BINARY)') as copy:
                copy.set_types(types)
                for row in fresh:
                    copy.write_row(tuple(row.values()))
    except IntegrityError:
        return rows
    return [r for r in rows if not (stored_until is None or r["system_time"] > stored_until)]


def _copy_upsert(model, rows: list[dict]) -> None:
    # COPY into a temporary table, then one INSERT ... ON CONFLICT: the fastest way PostgreSQL
    # takes many rows; rows whose content did not change are not rewritten.
    table = model._meta.db_table
    fields = _fields(rows)
    column_names = [_column(model, f) for f in fields]
    columns = ", ".join(f'"{c}"' for c in column_names)
    updates = [_column(model, f) for f in _update_fields(fields)]
    temp = f"dexweb_upsert_{next(_temp_names)}"
    set_clause = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in updates)
    changed = " OR ".join(f'"{table}"."{c}" IS DISTINCT FROM EXCLUDED."{c}"' for c in updates)
    with db_connection.cursor() as cursor:
        cursor.execute(
            f'CREATE TEMP TABLE "{temp}" ON COMMIT DROP AS SELECT {columns} FROM "{table}" WITH NO DATA'
        )
        types = _column_types(cursor, table, temp, column_names)
        # Binary COPY: about twice as fast as text, since PostgreSQL parses nothing.
        with cursor.cursor.copy(f'COPY "{temp}" ({columns}) FROM STDIN (FORMAT BINARY)') as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(tuple(row.values()))
        cursor.execute(
            f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM "{temp}" '
            f'ON CONFLICT ("patient_id", "record_id") DO UPDATE SET {set_clause} WHERE {changed}'
        )
        cursor.execute(f'DROP TABLE "{temp}"')


_column_types_cache: dict[tuple, list[str]] = {}


def _column_types(cursor, table: str, temp: str, column_names: list[str]) -> list[str]:
    key = (table, *column_names)
    if key not in _column_types_cache:
        cursor.execute(
            "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0",
            [temp],
        )
        types = dict(cursor.fetchall())
        _column_types_cache[key] = [types[name] for name in column_names]
    return _column_types_cache[key]


def quarantine(
    *, patient_id: int, run_id: int | None, record_type: str, bad: list[Quarantined]
) -> int:
    """Keep bad records raw with their reason, once per record and reason (Quarantined.dedupe_key),
    and log each the first time; returns how many were new."""
    from apps.sync.models import QuarantinedRecord

    by_key = {item.dedupe_key: item for item in bad}
    known = set(
        QuarantinedRecord.objects.filter(
            patient_id=patient_id, record_type=record_type, dedupe_key__in=list(by_key)
        ).values_list("dedupe_key", flat=True)
    )
    new = {key: item for key, item in by_key.items() if key not in known}
    for item in new.values():
        logger.warning(
            "Quarantined a %s record %s of patient %s: %s",
            record_type,
            item.record_id or "(no recordId)",
            patient_id,
            item.reason,
        )
    QuarantinedRecord.objects.bulk_create(
        [
            QuarantinedRecord(
                patient_id=patient_id,
                run_id=run_id,
                record_type=record_type,
                record_id=item.record_id,
                raw=item.raw,
                raw_hash=item.raw_hash,
                dedupe_key=key,
                reason=item.reason,
            )
            for key, item in new.items()
        ],
        ignore_conflicts=True,  # a concurrent run may have written the same entry
    )
    return len(new)


# --- Devices ------------------------------------------------------------------------------------


def device_key(raw: dict) -> str:
    """transmitterId, or generation/device/app for the new users Dexcom sends "" for."""
    transmitter = raw.get("transmitterId") or ""
    if transmitter:
        return transmitter
    parts = [raw.get("transmitterGeneration"), raw.get("displayDevice"), raw.get("displayApp")]
    return "/".join(str(p or "") for p in parts)[:128]


def _str(raw: dict, key: str, max_length: int) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRecord(f"{key} is not text")
    if len(value) > max_length:
        raise BadRecord(f"{key} is longer than {max_length} characters")
    return value


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
            "transmitter_id": _str(raw, "transmitterId", 64),
            "transmitter_generation": _str(raw, "transmitterGeneration", 32),
            "transmitter_generation_variant": _str(raw, "transmitterGenerationVariant", 32),
            "display_device": _str(raw, "displayDevice", 32),
            "display_app": _str(raw, "displayApp", 32),
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
        "days_of_week": [d for d in days if isinstance(d, str) and d]
        if isinstance(days, list)
        else [],
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
        "alert_name": _str(raw, "alertName", 32),
        "value": _number_or_none(raw.get("value"), "value"),
        "unit": _str(raw, "unit", 16),
        "snooze": _int_or_none(raw.get("snooze"), "snooze"),
        "enabled": bool(raw.get("enabled")),
        "delay": _int_or_none(raw.get("delay"), "delay"),
        "secondary_trigger_condition": _int_or_none(secondary, "secondaryTriggerCondition"),
        "sound_theme": _str(raw, "soundTheme", 16),
        "sound_output_mode": _str(raw, "soundOutputMode", 16),
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
        "content_hash": _hash(
            {**content, "system_time": system_time.isoformat() if system_time else None}
        ),
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
        .order_by("-id")  # the version written last is the current one
        .values_list("content_hash", flat=True)
        .first()
    )
    if latest == setting["content_hash"]:
        return
    AlertSettingVersion.objects.bulk_create(
        [
            AlertSettingVersion(
                device=device, valid_from=setting["system_time"] or timezone.now(), **setting
            )
        ],
        ignore_conflicts=True,
    )
    # The unit the device shows may have changed, and the triage figures count bands in it.
    snapshots.forget(patient_id=device.patient_id)
