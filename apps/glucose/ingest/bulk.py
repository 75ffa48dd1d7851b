"""The bulk SQL of the ingest writer: upserts keyed by (patient, record_id), inserts of new rows.

Everything here runs inside the caller's transaction and knows nothing of where rows come from
(apps.glucose.ingest decides what is new). On PostgreSQL the upsert streams the rows with COPY
into a temporary table and merges them with one INSERT ... ON CONFLICT DO UPDATE (skipping rows
whose content did not change, so re-reading an overlap writes nothing); on SQLite it is one
prepared upsert run with executemany. insert_new is one prepared INSERT ... ON CONFLICT DO
NOTHING: Django's bulk_create spends most of an import preparing values field by field (and
caps SQLite statements at 999 parameters), and these rows are already checked plain values.
"""

import itertools

from django.db import IntegrityError, transaction
from django.db import connection as db_connection
from django.db.models import Max

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


def upsert(model, rows: list[dict]) -> int:
    """Insert or update rows keyed by (patient, record_id); returns how many were given."""
    if not rows:
        return 0
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


def _insert_columns(model) -> list:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def insert_new(model, rows: list[dict]) -> None:
    """Insert rows (attname -> value; missing fields take their default), skipping any whose
    (patient, record_id) is already stored."""
    if not rows:
        return
    fields = _insert_columns(model)
    defaults = {f.attname: f.get_default() for f in fields}
    adapt = db_connection.ops.adapt_datetimefield_value
    datetimes = {f.attname for f in fields if f.get_internal_type() == "DateTimeField"}
    names = ", ".join(db_connection.ops.quote_name(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = (
        f"INSERT INTO {db_connection.ops.quote_name(model._meta.db_table)} ({names}) "
        f'VALUES ({placeholders}) ON CONFLICT ("patient_id", "record_id") DO NOTHING'
    )
    with db_connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH_SIZE):
            cursor.executemany(
                sql,
                [
                    [
                        adapt(row[f.attname])
                        if f.attname in datetimes
                        else row.get(f.attname, defaults[f.attname])
                        for f in fields
                    ]
                    for row in rows[start : start + BATCH_SIZE]
                ],
            )
