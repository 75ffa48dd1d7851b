"""The patient-data tables that grow are keyed by patient, so PostgreSQL can be sharded by it.

Citus distributes a table by one column and needs that column in the primary key and in every
unique constraint; a surrogate id or a unique key without the patient would stop the table from
being distributed by patient.
"""

from datetime import date

import pytest
from django.db import connection, models
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import isolate_apps

from apps.glucose.models import (
    Alert,
    AlertSchedule,
    AlertSettingVersion,
    Calibration,
    DailySummary,
    Device,
    Egv,
    Event,
)

PATIENT_KEYED = (Egv, Alert, Calibration, Event, Device, AlertSchedule, AlertSettingVersion, DailySummary)


def _key_columns(model) -> list[str]:
    pk = model._meta.pk
    fields = pk.fields if isinstance(pk, models.CompositePrimaryKey) else [pk]
    return [field.column for field in fields]


@pytest.mark.parametrize("model", PATIENT_KEYED, ids=lambda m: m.__name__)
def test_its_primary_key_leads_with_the_patient(model):
    assert _key_columns(model)[0] == "patient_id"


@pytest.mark.parametrize("model", PATIENT_KEYED, ids=lambda m: m.__name__)
def test_every_unique_constraint_includes_the_patient(model):
    unique_sets = [c.fields for c in model._meta.constraints if isinstance(c, models.UniqueConstraint)]
    unique_sets += [(f.name,) for f in model._meta.local_concrete_fields if f.unique and not f.primary_key]
    assert all("patient" in fields for fields in unique_sets), unique_sets


@pytest.mark.django_db
@pytest.mark.parametrize("model", PATIENT_KEYED, ids=lambda m: m.__name__)
def test_the_database_key_is_the_models_key(model):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    (primary,) = [c["columns"] for c in constraints.values() if c["primary_key"]]
    # SQLite's introspection lists a key's columns in table order, PostgreSQL in key order.
    expected = _key_columns(model) if connection.vendor == "postgresql" else sorted(_key_columns(model))
    assert (primary if connection.vendor == "postgresql" else sorted(primary)) == expected


@isolate_apps("apps.glucose")  # a model of the test's own, not registered for makemigrations to see
def test_the_check_fails_on_a_surrogate_key():
    class Surrogate(models.Model):
        patient = models.IntegerField()

        class Meta:
            app_label = "glucose"

    assert _key_columns(Surrogate) == ["id"]


KEYED = ("glucose", "0008_daily_summaries_keyed_by_patient")
BEFORE = ("glucose", "0005_targets")
DAY = date(2026, 11, 1)


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_every_record_both_ways():
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    try:
        _migrate(executor, BEFORE)
        old = executor.loader.project_state(BEFORE).apps
        patient = old.get_model("accounts", "User").objects.create(email="keys@example.com")
        fields = {"system_time": "2026-11-01T00:00:00Z", "display_delta_seconds": 0}
        old.get_model("glucose", "Egv").objects.create(
            patient_id=patient.pk, record_id="e1", value=120, **fields
        )
        old.get_model("glucose", "Alert").objects.create(
            patient_id=patient.pk, record_id="a1", alert_name="low", **fields
        )
        _old_device_with_history(old, patient.pk)
        old.get_model("glucose", "DailySummary").objects.create(patient_id=patient.pk, day=DAY, readings=5)

        _migrate(executor, KEYED)
        keyed = executor.loader.project_state(KEYED).apps
        egv = keyed.get_model("glucose", "Egv").objects.get(patient_id=patient.pk, record_id="e1")
        assert egv.pk == (patient.pk, "e1") and egv.value == 120
        assert keyed.get_model("glucose", "Alert").objects.filter(pk=(patient.pk, "a1")).exists()
        device = keyed.get_model("glucose", "Device").objects.get(pk=(patient.pk, "tx1"))
        assert [s.name for s in device.schedules.all()] == ["Night"]
        (version,) = device.setting_versions.all()
        assert (version.value, version.observed_at.isoformat()) == (200.0, "2026-11-02T00:00:00+00:00")
        assert keyed.get_model("glucose", "DailySummary").objects.get(pk=(patient.pk, DAY)).readings == 5

        _migrate(executor, BEFORE)
        back = executor.loader.project_state(BEFORE).apps
        (row,) = back.get_model("glucose", "Egv").objects.filter(patient_id=patient.pk)
        assert row.record_id == "e1" and row.value == 120 and row.id is not None
        device = back.get_model("glucose", "Device").objects.get(patient_id=patient.pk)
        assert device.schedules.get().name == "Night"
        assert device.setting_versions.get().observed_at.isoformat() == "2026-11-02T00:00:00+00:00"
        summary = back.get_model("glucose", "DailySummary").objects.get(patient_id=patient.pk)
        assert (summary.day, summary.readings) == (DAY, 5) and summary.id is not None
    finally:
        _migrate(executor, *leaves)


def _old_device_with_history(old, patient_id):
    device = old.get_model("glucose", "Device").objects.create(patient_id=patient_id, device_key="tx1")
    old.get_model("glucose", "AlertSchedule").objects.create(
        device=device, name="Night", is_enabled=True, is_default=False, start_time="22:00", end_time="06:00"
    )
    version = old.get_model("glucose", "AlertSettingVersion").objects.create(
        device=device,
        alert_name="high",
        value=200,
        enabled=True,
        content_hash="h1",
        valid_from="2026-11-01T00:00:00Z",
    )
    # observed_at is stamped on create (auto_now_add): set it after, to see the migration keep it.
    type(version).objects.filter(pk=version.pk).update(observed_at="2026-11-02T00:00:00Z")


def _migrate(executor, *targets):
    executor.loader.build_graph()
    executor.migrate(list(targets))
