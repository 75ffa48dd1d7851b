import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from tests.glucose import factories


@pytest.fixture
def patient_with_records(patient):
    start = datetime(2026, 11, 10, tzinfo=UTC)
    factories.make_egvs(patient, start, [100, 180, 39])
    factories.make_event(patient, start + timedelta(minutes=3))
    factories.make_alert(patient, start + timedelta(minutes=4))
    factories.make_device(patient)
    return patient


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_it_exports_a_record_type_for_a_period(client, patient_with_records):
    client.force_login(patient_with_records)
    response = client.get(f"/patients/{patient_with_records.pk}/export/?type=egvs&start=2026-11-10&end=2026-11-10")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = read_csv(response)
    assert rows[0][:3] == ["record_id", "system_time_utc", "local_time"]
    assert [row[rows[0].index("value_mgdl")] for row in rows[1:]] == ["100", "180", "39"]
    empty = read_csv(client.get(f"/patients/{patient_with_records.pk}/export/?type=egvs&start=2026-11-01&end=2026-11-02"))
    assert len(empty) == 1


def test_it_exports_in_mmol_too(client, patient_with_records):
    patient_with_records.glucose_unit = "mmol/L"
    patient_with_records.save()
    client.force_login(patient_with_records)
    rows = read_csv(client.get(f"/patients/{patient_with_records.pk}/export/?type=egvs&start=2026-11-10&end=2026-11-10"))
    assert [r[rows[0].index("value_mmoll")] for r in rows[1:]] == ["5.6", "10.0", "2.2"]


def test_it_zips_everything(client, patient_with_records):
    client.force_login(patient_with_records)
    response = client.get(f"/patients/{patient_with_records.pk}/export/?all=1")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(archive.namelist()) == sorted(
        ["egvs.csv", "events.csv", "alerts.csv", "calibrations.csv", "devices.csv", "alert_settings.csv"])
    assert archive.read("egvs.csv").decode().count("\n") == 4
    assert "high" in archive.read("alert_settings.csv").decode()


def test_it_refuses_an_unknown_record_type(client, patient_with_records):
    client.force_login(patient_with_records)
    assert client.get(f"/patients/{patient_with_records.pk}/export/?type=secrets").status_code == 404
