import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from apps.glucose.models import Device, Egv
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
    response = client.get(
        f"/patients/{patient_with_records.pk}/export/?type=egvs&start=2026-11-10&end=2026-11-10"
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = read_csv(response)
    assert rows[0][:3] == ["record_id", "system_time_utc", "local_time"]
    assert [row[rows[0].index("glucose_mgdl")] for row in rows[1:]] == ["100", "180", "39"]
    empty = read_csv(
        client.get(f"/patients/{patient_with_records.pk}/export/?type=egvs&start=2026-11-01&end=2026-11-02")
    )
    assert len(empty) == 1


def test_a_period_is_of_the_records_own_local_days(client, patient):
    new_york = -5 * 3600  # 03:00 UTC on the 11th is 22:00 on the 10th there; 04:00 UTC on the 10th, the 9th
    for at, value in (
        (datetime(2026, 11, 11, 3, tzinfo=UTC), 111),
        (datetime(2026, 11, 10, 4, tzinfo=UTC), 99),
    ):
        factories.make_egvs(patient, at, [value], delta_seconds=new_york, summaries=False)
    client.force_login(patient)
    rows = read_csv(client.get(f"/patients/{patient.pk}/export/?type=egvs&start=2026-11-10&end=2026-11-10"))
    assert [(row[2], row[rows[0].index("glucose_mgdl")]) for row in rows[1:]] == [
        ("2026-11-10T22:00:00-05:00", "111")
    ]


def test_a_device_clock_a_day_or_more_off_exports_its_wall_clock(client, patient):
    """A receiver set to the wrong date: no UTC offset can say it, so its clock goes out naive."""
    at = datetime(2026, 11, 10, 12, tzinfo=UTC)
    two_days_ahead = 2 * 86400 + 3600
    factories.make_egvs(patient, at, [140], delta_seconds=two_days_ahead, summaries=False)
    client.force_login(patient)
    response = client.get(f"/patients/{patient.pk}/export/?type=egvs&start=2026-11-10&end=2026-11-12")
    assert response.status_code == 200
    rows = read_csv(response)
    assert [(row[1], row[2]) for row in rows[1:]] == [("2026-11-10T12:00:00+00:00", "2026-11-12T13:00:00")]


def test_it_exports_in_mmol_too(client, patient_with_records):
    patient_with_records.glucose_unit = "mmol/L"
    patient_with_records.save()
    client.force_login(patient_with_records)
    rows = read_csv(
        client.get(f"/patients/{patient_with_records.pk}/export/?type=egvs&start=2026-11-10&end=2026-11-10")
    )
    assert [r[rows[0].index("glucose_mmoll")] for r in rows[1:]] == ["5.6", "10.0", "2.2"]


def test_it_zips_everything(client, patient_with_records):
    client.force_login(patient_with_records)
    response = client.get(f"/patients/{patient_with_records.pk}/export/?all=1")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(archive.namelist()) == sorted(
        ["egvs.csv", "events.csv", "alerts.csv", "calibrations.csv", "devices.csv", "alert_settings.csv"]
    )
    assert archive.read("egvs.csv").decode().count("\n") == 4
    assert "high" in archive.read("alert_settings.csv").decode()


def test_it_refuses_an_unknown_record_type(client, patient_with_records):
    client.force_login(patient_with_records)
    assert client.get(f"/patients/{patient_with_records.pk}/export/?type=secrets").status_code == 404


FORMULAS = ['=HYPERLINK("http://x","y")', "+1", "@SUM(1)", "\t=1", "\r=1", "-2+3"]


@pytest.fixture
def patient_with_formulas(patient):
    start = datetime(2026, 11, 10, tzinfo=UTC)
    [reading] = factories.make_egvs(patient, start, [100])
    Egv.objects.filter(record_id=reading["record_id"]).update(trend_rate=-1.5)
    for minute, note in enumerate(FORMULAS, start=1):
        factories.make_event(patient, start + timedelta(minutes=minute), "note", note, unit="")
    factories.make_alert(patient, start + timedelta(minutes=9), name="=cmd|'/c calc'!A1")
    device = factories.make_device(patient)
    Device.objects.filter(pk=device.pk).update(display_device="-evil()")
    factories.setting(device, "high", 180, start, schedule="@schedule")
    return patient


def _column(rows, name):
    return [row[rows[0].index(name)] for row in rows[1:]]


def test_it_neutralises_formulas_in_a_csv(client, patient_with_formulas):
    client.force_login(patient_with_formulas)
    url = f"/patients/{patient_with_formulas.pk}/export/?start=2026-11-10&end=2026-11-10&type="
    body = b"".join(client.get(url + "events").streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert _column(rows, "value") == ["'" + note for note in FORMULAS]
    assert '"\'=HYPERLINK(""http://x"",""y"")"' in body  # quoted, inner quotes doubled
    egvs = b"".join(client.get(url + "egvs").streaming_content).decode()
    assert egvs.splitlines()[1].split(",")[-1] == "-1.5"  # a real number: bare and unchanged


def test_it_neutralises_formulas_in_every_file_of_the_zip(client, patient_with_formulas):
    client.force_login(patient_with_formulas)
    response = client.get(f"/patients/{patient_with_formulas.pk}/export/?all=1")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))

    def rows(name):
        return list(csv.reader(io.StringIO(archive.read(name).decode())))

    assert _column(rows("events.csv"), "value") == ["'" + note for note in FORMULAS]
    assert _column(rows("alerts.csv"), "alert_name") == ["'=cmd|'/c calc'!A1"]
    assert _column(rows("devices.csv"), "display_device") == ["'-evil()"]
    assert "'@schedule" in _column(rows("alert_settings.csv"), "schedule_name")
    assert _column(rows("egvs.csv"), "trend_rate") == ["-1.5"]
    assert archive.read("egvs.csv").decode().splitlines()[1].endswith(",-1.5")
