"""Exports (issue 11): unique columns with units, ISO 8601 with offset, schedule names, record-type
names, real ZIP dates, and a clear error for an end date before the start."""

import csv
import io
import re
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from apps.dashboard.exports import RECORD_TYPE_NAMES, RECORD_TYPES
from apps.glucose.models import AlertSettingVersion
from apps.glucose.reports.exports import EXPORT_TYPES
from tests.glucose import factories

ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$")
TIME_COLUMNS = ("system_time_utc", "local_time", "last_upload_utc", "valid_from_utc", "adjusted_at_local")


@pytest.fixture
def patient_with_records(patient):
    start = datetime(2026, 11, 10, 12, tzinfo=UTC)
    factories.make_egvs(patient, start, [100, 180], delta_seconds=-5 * 3600)
    factories.make_event(patient, start + timedelta(minutes=3))
    factories.make_alert(patient, start + timedelta(minutes=4))
    factories.make_calibration(patient, start + timedelta(minutes=6))
    device = factories.make_device(patient)
    AlertSettingVersion.objects.filter(device=device).update(display_delta_seconds=-5 * 3600)
    return patient


def _zip(client, patient) -> zipfile.ZipFile:
    client.force_login(patient)
    response = client.get(f"/patients/{patient.pk}/export/?all=1")
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def _rows(archive, name):
    return list(csv.reader(io.StringIO(archive.read(name).decode())))


def test_every_file_has_unique_column_names(client, patient_with_records):
    archive = _zip(client, patient_with_records)
    for name in archive.namelist():
        header = _rows(archive, name)[0]
        assert len(header) == len(set(header)), (name, header)
    assert {"glucose_mgdl", "glucose_mmoll", "trend_rate_unit"} <= set(_rows(archive, "egvs.csv")[0])
    assert {"threshold", "threshold_unit", "snooze_minutes"} <= set(_rows(archive, "alert_settings.csv")[0])


def test_every_exported_type_has_its_columns_and_a_file_in_the_zip(client, patient_with_records):
    assert tuple(RECORD_TYPES) == tuple(RECORD_TYPE_NAMES) == EXPORT_TYPES
    assert _zip(client, patient_with_records).namelist() == [f"{name}.csv" for name in EXPORT_TYPES]


def test_every_time_in_every_file_is_iso_8601_with_an_offset(client, patient_with_records):
    archive = _zip(client, patient_with_records)
    seen = 0
    for name in archive.namelist():
        rows = _rows(archive, name)
        for column in set(TIME_COLUMNS) & set(rows[0]):
            for row in rows[1:]:
                cell = row[rows[0].index(column)]
                if cell:
                    assert ISO_WITH_OFFSET.match(cell), (name, column, cell)
                    seen += 1
    assert seen >= 10
    egvs = _rows(archive, "egvs.csv")
    assert egvs[1][egvs[0].index("local_time")] == "2026-11-10T07:00:00-05:00"
    assert egvs[1][egvs[0].index("system_time_utc")] == "2026-11-10T12:00:00+00:00"


def test_the_default_schedule_is_named(client, patient_with_records):
    rows = _rows(_zip(client, patient_with_records), "alert_settings.csv")
    names = [row[rows[0].index("schedule_name")] for row in rows[1:]]
    assert names and "" not in names and "Default" in names


def test_zip_entries_carry_the_export_date(client, patient_with_records):
    archive = _zip(client, patient_with_records)
    today = datetime.now(UTC)
    for info in archive.infolist():
        assert info.date_time[0] >= today.year - 1 and info.date_time[0] != 1980


def test_the_export_form_names_record_types_for_people(client, patient_with_records):
    client.force_login(patient_with_records)
    html = client.get(f"/patients/{patient_with_records.pk}/export/").content.decode()
    assert '<option value="egvs">Glucose readings (EGVs)</option>' in html
    assert ">alert_settings<" not in html


def test_an_end_before_the_start_is_a_clear_error(client, patient_with_records):
    client.force_login(patient_with_records)
    response = client.get(
        f"/patients/{patient_with_records.pk}/export/?type=egvs&start=2026-11-10&end=2026-11-01"
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "The end date (01 Nov 2026) is before the start date (10 Nov 2026)" in html
    bad = client.get(f"/patients/{patient_with_records.pk}/export/?type=egvs&start=yesterday")
    assert bad.status_code == 400 and "is not a date" in bad.content.decode()
