"""Insert new records fast: one prepared INSERT ... ON CONFLICT DO NOTHING run with executemany.

Django's bulk_create spends most of an import preparing values field by field (and caps SQLite
statements at 999 parameters); the rows here are already checked plain values, so they go to
the database as they are. Runs inside the importer's transaction. Works on SQLite (>= 3.24) and
PostgreSQL, both of which know ON CONFLICT.
"""

from django.db import connection

BATCH_ROWS = 2000


def _columns(model) -> list:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def insert_new(model, rows: list[dict]) -> None:
    """Insert rows (attname -> value; missing fields take their default), skipping any whose
    (patient, record_id) is already stored."""
    if not rows:
        return
    fields = _columns(model)
    defaults = {f.attname: f.get_default() for f in fields}
    adapt = connection.ops.adapt_datetimefield_value
    datetimes = {f.attname for f in fields if f.get_internal_type() == "DateTimeField"}
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = (
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({names}) "
        f'VALUES ({placeholders}) ON CONFLICT ("patient_id", "record_id") DO NOTHING'
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH_ROWS):
            cursor.executemany(sql, [
                [adapt(row[f.attname]) if f.attname in datetimes else row.get(f.attname, defaults[f.attname])
                 for f in fields]
                for row in rows[start:start + BATCH_ROWS]
            ])
