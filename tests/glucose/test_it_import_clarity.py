"""Dexcom Clarity CSV import: readings, events, deduplication, and malformed files."""

import io
import re
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.glucose.clarity import ClarityFormatError, import_clarity_file
from apps.glucose.models import Calibration, DailySummary, Egv, Event
from tests.glucose import factories

HEADER = (
    "Index,Timestamp (YYYY-MM-DDThh:mm:ss),Event Type,Event Subtype,Patient Info,Device Info,"
    "Source Device ID,Glucose Value (mg/dL),Insulin Value (u),Carb Value (grams),Duration (hh:mm:ss),"
    "Glucose Rate of Change (mg/dL/min),Transmitter Time (Long Integer),Transmitter ID\n"
)
PREAMBLE = (
    "1,,FirstName,,Dana,,,,,,,,,\n"
    "2,,LastName,,Demo,,,,,,,,,\n"
    "3,,Device,,,Android G7,Android G7,,,,,,,\n"
    "4,,Alert,High,,,Android G7,200,,,,,,\n"
)


def clarity_csv(rows: list[str], header: str = HEADER) -> bytes:
    return (header + PREAMBLE + "".join(rows)).encode()


def egv_rows(start_minute: int, values) -> list[str]:
    rows = []
    for i, value in enumerate(values):
        minute = start_minute + 5 * i
        stamp = f"2026-11-10T{minute // 60:02d}:{minute % 60:02d}:00"
        rows.append(f"{10 + i},{stamp},EGV,,,,Android G7,{value},,,,,{1000 + i},8ABCDE\n")
    return rows


@pytest.fixture
def new_yorker(make_user):
    return make_user("clarity@example.com", timezone="America/New_York")


def test_it_imports_readings_events_and_calibrations(new_yorker):
    rows = egv_rows(8 * 60, [120, "Low", "High", 135]) + [
        "20,2026-11-10T08:30:00,Carbs,,,,Android G7,,,45,,,,\n",
        "21,2026-11-10T08:31:00,Insulin,Fast-Acting,,,Android G7,,4.5,,,,,\n",
        "22,2026-11-10T09:00:00,Exercise,Light,,,Android G7,,,,00:30:00,,,\n",
        "23,2026-11-10T09:10:00,Calibration,,,,Android G7,118,,,,,,\n",
    ]
    result = import_clarity_file(patient=new_yorker, stream=io.BytesIO(clarity_csv(rows)),
                                 tzinfo=new_yorker.tzinfo)
    assert (result.egvs_added, result.events_added, result.calibrations_added) == (4, 3, 1)
    egvs = list(Egv.objects.filter(patient=new_yorker).order_by("system_time"))
    assert [(e.value, e.status) for e in egvs] == [(120, "ok"), (39, "low"), (401, "high"), (135, "ok")]
    # 08:00 in New York in November is 13:00 UTC; the wall clock is kept as the display delta.
    assert egvs[0].system_time == datetime(2026, 11, 10, 13, 0, tzinfo=UTC)
    assert egvs[0].local_time == datetime(2026, 11, 10, 8, 0)
    insulin = Event.objects.get(patient=new_yorker, event_type="insulin")
    assert (insulin.event_sub_type, insulin.value, insulin.unit) == ("fastActing", "4.5", "units")
    assert Event.objects.get(event_type="exercise").value == "30"
    assert Calibration.objects.get(patient=new_yorker).value == 118
    assert DailySummary.objects.get(patient=new_yorker).readings == 4


def test_it_adds_nothing_when_the_same_file_comes_twice(new_yorker):
    data = clarity_csv(egv_rows(0, [100, 110, 120]) + ["9,2026-11-10T01:00:00,Carbs,,,,X,,,20,,,,\n"])
    import_clarity_file(patient=new_yorker, stream=io.BytesIO(data), tzinfo=new_yorker.tzinfo)
    again = import_clarity_file(patient=new_yorker, stream=io.BytesIO(data), tzinfo=new_yorker.tzinfo)
    assert (again.egvs_added, again.egvs_skipped, again.events_added) == (0, 3, 0)
    assert Egv.objects.filter(patient=new_yorker).count() == 3


def test_it_skips_readings_the_sync_already_stored_in_the_same_slot(new_yorker):
    # A synced reading at 08:01:30 local (13:01:30 UTC); Clarity has 08:00 and 08:05.
    factories.make_egvs(new_yorker, datetime(2026, 11, 10, 13, 1, 30, tzinfo=UTC), [121],
                        delta_seconds=-5 * 3600)
    result = import_clarity_file(patient=new_yorker, stream=io.BytesIO(clarity_csv(egv_rows(8 * 60, [120, 130]))),
                                 tzinfo=new_yorker.tzinfo)
    assert (result.egvs_added, result.egvs_skipped) == (1, 1)
    assert sorted(Egv.objects.filter(patient=new_yorker).values_list("value", flat=True)) == [121, 130]


def test_it_reads_mmol_exports(new_yorker):
    header = HEADER.replace("Glucose Value (mg/dL)", "Glucose Value (mmol/L)").replace(
        "(mg/dL/min)", "(mmol/L/min)")
    import_clarity_file(patient=new_yorker, stream=io.BytesIO(clarity_csv(egv_rows(0, ["5.5"]), header)),
                        tzinfo=new_yorker.tzinfo)
    assert Egv.objects.get(patient=new_yorker).value == 99  # 5.5 x 18.018 = 99.1


@pytest.mark.parametrize("content, message", [
    (b"", "not a Dexcom Clarity CSV export"),
    (b"date,value\n2026-11-10,120\n", "not a Dexcom Clarity CSV export"),
    (b"\xff\xfe\x00garbage", "not a text (UTF-8) CSV"),
    (clarity_csv(["10,10/11/2026 08:00,EGV,,,,X,120,,,,,,\n"]), "Line 6: '10/11/2026 08:00' is not a timestamp"),
    (clarity_csv(["10,2026-11-10T08:00:00,EGV,,,,X,abc,,,,,,\n"]), "Line 6: 'abc' is not a glucose value"),
    (clarity_csv([]), "no glucose readings or events"),
])
def test_it_explains_a_malformed_file(new_yorker, content, message):
    with pytest.raises(ClarityFormatError, match=re.escape(message)):
        import_clarity_file(patient=new_yorker, stream=io.BytesIO(content), tzinfo=new_yorker.tzinfo)
    assert not Egv.objects.filter(patient=new_yorker).exists()


def test_the_command_imports_and_reports_errors(new_yorker, tmp_path):
    good = tmp_path / "clarity.csv"
    good.write_bytes(clarity_csv(egv_rows(0, [100, 101])))
    out = io.StringIO()
    call_command("import_clarity", str(good), user=new_yorker.email, stdout=out)
    assert "2 readings added" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_text("hello\n")
    with pytest.raises(CommandError, match="not a Dexcom Clarity CSV export"):
        call_command("import_clarity", str(bad), user=new_yorker.email)


def test_the_import_page_uploads_a_file(client, new_yorker):
    from django.core.files.uploadedfile import SimpleUploadedFile
    client.force_login(new_yorker)
    url = f"/patients/{new_yorker.pk}/import/"
    upload = SimpleUploadedFile("clarity.csv", clarity_csv(egv_rows(0, [100])), content_type="text/csv")
    response = client.post(url, {"file": upload})
    assert response.status_code == 302
    assert Egv.objects.filter(patient=new_yorker).count() == 1
    bad = SimpleUploadedFile("bad.csv", b"nonsense\n", content_type="text/csv")
    response = client.post(url, {"file": bad})
    assert response.status_code == 200
    assert b"not a Dexcom Clarity CSV export" in response.content
