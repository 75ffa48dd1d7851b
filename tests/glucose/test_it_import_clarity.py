"""Dexcom Clarity CSV import: readings, events, deduplication, and malformed files."""

import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

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
    result = import_clarity_file(
        patient=new_yorker, stream=io.BytesIO(clarity_csv(rows)), tzinfo=new_yorker.tzinfo
    )
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


def test_it_skips_a_reading_the_sync_stored_within_a_minute(new_yorker):
    # A synced reading at 08:00:40 local (13:00:40 UTC), no transmitter ticks; Clarity has 08:00
    # and 08:05 of the same transmitter: 08:00 is that reading, 08:05 is a new one.
    factories.make_egvs(
        new_yorker, datetime(2026, 11, 10, 13, 0, 40, tzinfo=UTC), [121], delta_seconds=-5 * 3600
    )
    result = import_clarity_file(
        patient=new_yorker,
        stream=io.BytesIO(clarity_csv(egv_rows(8 * 60, [120, 130]))),
        tzinfo=new_yorker.tzinfo,
    )
    assert (result.egvs_added, result.egvs_skipped) == (1, 1)
    assert sorted(Egv.objects.filter(patient=new_yorker).values_list("value", flat=True)) == [121, 130]


def test_it_reads_mmol_exports(new_yorker):
    header = HEADER.replace("Glucose Value (mg/dL)", "Glucose Value (mmol/L)").replace(
        "(mg/dL/min)", "(mmol/L/min)"
    )
    import_clarity_file(
        patient=new_yorker,
        stream=io.BytesIO(clarity_csv(egv_rows(0, ["5.5"]), header)),
        tzinfo=new_yorker.tzinfo,
    )
    assert Egv.objects.get(patient=new_yorker).value == 99  # 5.5 x 18.018 = 99.1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a Dexcom Clarity CSV export"),
        (b"date,value\n2026-11-10,120\n", "not a Dexcom Clarity CSV export"),
        (b"\xff\xfe\x00garbage", "not a text (UTF-8) CSV"),
        (
            clarity_csv(["10,10/11/2026 08:00,EGV,,,,X,120,,,,,,\n"]),
            "Line 6: '10/11/2026 08:00' is not a timestamp",
        ),
        (
            clarity_csv(["10,2026-11-10T08:00:00,EGV,,,,X,abc,,,,,,\n"]),
            "Line 6: 'abc' is not a glucose value",
        ),
        (clarity_csv([]), "no glucose readings or events"),
    ],
)
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


# --- Every reading once: identity, transmitter and time, no 5-minute slots -----------------------

FIXTURES = Path(__file__).parent / "fixtures"
NEW_YORK_FALL_BACK = FIXTURES / "clarity_export_mgdl_new_york_fall_back.csv"
BERLIN_MMOL = FIXTURES / "clarity_export_mmol_berlin.csv"


def import_file(patient, path_or_bytes, tzinfo=None, **kwargs):
    data = path_or_bytes.read_bytes() if isinstance(path_or_bytes, Path) else path_or_bytes
    return import_clarity_file(
        patient=patient, stream=io.BytesIO(data), tzinfo=tzinfo or patient.tzinfo, **kwargs
    )


def egv_row(index, stamp, value, ticks="", transmitter="8ABCDE", source="Android G7"):
    return f"{index},{stamp},EGV,,,,{source},{value},,,,,{ticks},{transmitter}\n"


def test_it_keeps_two_real_readings_4_min_59_s_apart(new_yorker):
    rows = [egv_row(10, "2026-11-10T08:00:00", 120, 5000), egv_row(11, "2026-11-10T08:04:59", 125, 5299)]
    result = import_file(new_yorker, clarity_csv(rows))
    assert result.egvs_added == 2
    assert list(
        Egv.objects.filter(patient=new_yorker).order_by("system_time").values_list("value", flat=True)
    ) == [120, 125]


def test_it_keeps_two_readings_in_one_slot_that_clarity_tells_apart(new_yorker):
    # Two transmitters overlapping (a new sensor warming up): same minute, different transmitters.
    rows = [
        egv_row(10, "2026-11-10T08:00:10", 120, 5000, "8ABCDE"),
        egv_row(11, "2026-11-10T08:00:40", 180, 90, "9XYZQW"),
    ]
    assert import_file(new_yorker, clarity_csv(rows)).egvs_added == 2


def test_the_same_reading_from_two_display_devices_is_kept_once(new_yorker):
    # Receiver and phone both uploaded one reading: same transmitter time, a few seconds apart.
    rows = [
        egv_row(10, "2026-11-10T08:00:10", 120, 5000, source="Receiver"),
        egv_row(11, "2026-11-10T08:00:12", 120, 5000, source="Android G7"),
    ]
    result = import_file(new_yorker, clarity_csv(rows))
    assert (result.egvs_added, result.egvs_skipped) == (1, 1)


def test_it_matches_synced_readings_by_transmitter_ticks_not_by_slot(new_yorker):
    # The sync stored two readings (API ids are 64-hex hashes, so only the ticks compare):
    # ticks 5000 is Clarity's 08:00:10 reading; ticks 7777 is another reading in the same slot.
    api_id = "d55d01d0" * 8
    at = datetime(2026, 11, 10, 13, 0, 10, tzinfo=UTC)
    Egv.objects.bulk_create(
        [
            factories.egv(
                new_yorker, at, 121, delta_seconds=-5 * 3600, transmitter_id=api_id, transmitter_ticks=5000
            ),
            factories.egv(
                new_yorker,
                at + timedelta(seconds=20),
                119,
                delta_seconds=-5 * 3600,
                transmitter_id=api_id,
                transmitter_ticks=7777,
            ),
        ]
    )
    rows = [
        egv_row(10, "2026-11-10T08:00:10", 120, 5000),
        egv_row(11, "2026-11-10T08:00:25", 118, 7790),
        egv_row(12, "2026-11-10T08:04:59", 125, 5299),
    ]
    result = import_file(new_yorker, clarity_csv(rows))
    assert (result.egvs_added, result.egvs_skipped) == (2, 1)
    assert Egv.objects.filter(patient=new_yorker).count() == 4


def test_reimporting_the_real_layout_export_adds_nothing(new_yorker):
    first = import_file(new_yorker, NEW_YORK_FALL_BACK)
    assert (first.egvs_added, first.events_added, first.calibrations_added) == (40, 3, 1)
    again = import_file(new_yorker, NEW_YORK_FALL_BACK)
    assert (again.egvs_added, again.egvs_skipped, again.events_added, again.calibrations_added) == (
        0,
        40,
        0,
        0,
    )
    assert Egv.objects.filter(patient=new_yorker).count() == 40
    assert Event.objects.filter(patient=new_yorker).count() == 3


# --- Daylight saving time -------------------------------------------------------------------------


def test_all_24_readings_of_the_repeated_hour_are_kept_with_their_utc_times(new_yorker):
    import_file(new_yorker, NEW_YORK_FALL_BACK)
    egvs = list(Egv.objects.filter(patient=new_yorker).order_by("system_time"))
    assert len(egvs) == 40
    repeated = [e for e in egvs if e.local_time.date() == date(2026, 11, 1) and e.local_time.hour == 1]
    assert len(repeated) == 24
    # Every reading is 5 minutes after the one before, in UTC, through the change (03:57:11 UTC on).
    assert [e.system_time for e in egvs] == [
        datetime(2026, 11, 1, 3, 57, 11, tzinfo=UTC) + timedelta(minutes=5 * i) for i in range(40)
    ]
    first_0102 = [e for e in repeated if e.local_time.minute == 2]
    assert [(e.system_time.hour, e.display_delta_seconds) for e in first_0102] == [
        (5, -4 * 3600),
        (6, -5 * 3600),
    ]
    assert [(e.value, e.status) for e in egvs if e.status != "ok"] == [(39, "low"), (401, "high")]
    # The calibration of the second 01:xx (transmitter time says nothing; row order does).
    assert Calibration.objects.get(patient=new_yorker).system_time == datetime(
        2026, 11, 1, 6, 4, 11, tzinfo=UTC
    )


def test_the_repeated_hour_reads_right_when_rows_come_out_of_order(new_yorker):
    lines = NEW_YORK_FALL_BACK.read_text().splitlines(keepends=True)
    header, body = lines[0], lines[1:]
    shuffled = body[:11] + list(reversed(body[11:]))  # the transmitter time still decides
    import_file(new_yorker, (header + "".join(shuffled)).encode())
    assert list(
        Egv.objects.filter(patient=new_yorker).order_by("system_time").values_list("system_time", flat=True)
    ) == [datetime(2026, 11, 1, 3, 57, 11, tzinfo=UTC) + timedelta(minutes=5 * i) for i in range(40)]


def test_without_transmitter_time_the_row_order_places_the_repeated_hour(new_yorker):
    stamps = [
        "2026-11-01T00:55:00",
        "2026-11-01T01:30:00",
        "2026-11-01T01:55:00",
        "2026-11-01T01:00:00",
        "2026-11-01T01:30:00",
        "2026-11-01T02:05:00",
    ]
    rows = [egv_row(10 + i, stamp, 100 + i) for i, stamp in enumerate(stamps)]
    assert import_file(new_yorker, clarity_csv(rows)).egvs_added == 6
    assert [
        t.strftime("%H:%M")
        for t in Egv.objects.filter(patient=new_yorker)
        .order_by("system_time")
        .values_list("system_time", flat=True)
    ] == ["04:55", "05:30", "05:55", "06:00", "06:30", "07:05"]


def test_a_time_in_the_skipped_spring_hour_reads_with_the_offset_before_the_change(new_yorker):
    # 2026-03-08 02:30 does not exist in New York; read as EST (07:30 UTC); the wall clock stays.
    rows = [
        egv_row(10, "2026-03-08T01:55:00", 100),
        egv_row(11, "2026-03-08T02:30:00", 110),
        egv_row(12, "2026-03-08T03:05:00", 120),
    ]
    import_file(new_yorker, clarity_csv(rows))
    egvs = list(Egv.objects.filter(patient=new_yorker).order_by("system_time"))
    assert [e.system_time.strftime("%H:%M") for e in egvs] == ["06:55", "07:05", "07:30"]
    assert egvs[2].local_time == datetime(2026, 3, 8, 2, 30)


# --- Units ---------------------------------------------------------------------------------------


def test_it_reads_a_real_layout_mmol_export_with_low_and_high(make_user):
    berliner = make_user("berlin@example.com", timezone="Europe/Berlin")
    result = import_file(berliner, BERLIN_MMOL)
    assert result.egvs_added == 10
    values = list(Egv.objects.filter(patient=berliner).order_by("system_time").values_list("value", "status"))
    assert values == [
        (99, "ok"),
        (110, "ok"),
        (141, "ok"),
        (39, "low"),
        (70, "ok"),
        (180, "ok"),
        (401, "high"),
        (250, "ok"),
        (400, "ok"),
        (40, "ok"),
    ]
    first = Egv.objects.filter(patient=berliner).earliest("system_time")
    assert first.system_time == datetime(2026, 11, 10, 7, 1, 40, tzinfo=UTC)
    assert first.trend_rate == pytest.approx(1.08)  # 0.06 mmol/L/min in mg/dL/min


def test_it_refuses_mmol_values_under_a_mg_dl_header(new_yorker):
    rows = [
        egv_row(10 + i, f"2026-11-10T08:{5 * i:02d}:00", value)
        for i, value in enumerate(["5.5", "6.1", "7.2", "8.0", "6.6"])
    ]
    with pytest.raises(ClarityFormatError, match=r"look like mmol/L .*header says mg/dL \(line 6: '5.5'\)"):
        import_file(new_yorker, clarity_csv(rows))
    assert not Egv.objects.exists()


def test_it_refuses_mg_dl_values_under_a_mmol_header(new_yorker):
    header = HEADER.replace("(mg/dL)", "(mmol/L)")
    rows = [
        egv_row(10 + i, f"2026-11-10T08:{5 * i:02d}:00", value) for i, value in enumerate([120, 130, 140])
    ]
    with pytest.raises(ClarityFormatError, match=r"look like mg/dL .*header says mmol/L"):
        import_file(new_yorker, clarity_csv(rows, header))


# --- Plausibility: refused with the line, or a handful skipped and listed -------------------------

# Two days of readings (576 rows): up to 5 bad rows (1 in 100) may be skipped.
GOOD_DAYS = [
    egv_row(
        100 + i,
        f"{datetime(2026, 11, 9) + timedelta(minutes=5 * i):%Y-%m-%dT%H:%M:%S}",
        100 + i % 50,
        9000 + 300 * i,
    )
    for i in range(576)
]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("inf", "'inf' is not a glucose value"),
        ("nan", "'nan' is not a glucose value"),
        ("-inf", "'-inf' is not a glucose value"),
        ("99999", "'99999' mg/dL is outside the sensor's range 40–400 mg/dL"),
        ("39", "'39' mg/dL is outside the sensor's range"),
        ("401", "'401' mg/dL is outside the sensor's range"),
        ("1e308", "is outside the sensor's range"),
        ("x" * 5000, "a field of 5000 characters ('xxxxxxxx"),
    ],
)
def test_a_bad_value_alone_refuses_the_file_with_its_line(new_yorker, value, reason):
    rows = [egv_row(10, "2026-11-10T08:00:00", 120), egv_row(11, "2026-11-10T08:05:00", value)]
    with pytest.raises(ClarityFormatError, match=re.escape(reason)) as refused:
        import_file(new_yorker, clarity_csv(rows))
    assert "Line 7:" in str(refused.value) and "nothing was imported" in str(refused.value)
    assert len(str(refused.value)) < 1000
    assert not Egv.objects.exists()


def test_a_handful_of_bad_rows_in_a_good_file_are_skipped_and_listed(new_yorker):
    bad = [
        egv_row(1, "2026-11-10T23:59:00", "nan"),
        "2,2026-11-10T23:59:30,EGV,,,,Android G7,120\n",  # cut short
        egv_row(3, "2099-01-01T00:00:00", 120),
    ]  # in the future
    result = import_file(new_yorker, clarity_csv(GOOD_DAYS + bad))
    assert result.egvs_added == 576
    assert [line for line, _ in result.skipped_rows] == [582, 583, 584]
    reasons = [reason for _, reason in result.skipped_rows]
    assert "is not a glucose value" in reasons[0]
    assert "has 8 fields where the header has 14" in reasons[1]
    assert "in the future" in reasons[2]
    assert "3 rows could not be read" in result.summary()


def test_more_than_a_handful_of_bad_rows_refuse_the_whole_file(new_yorker):
    bad = [egv_row(i, f"2026-11-10T23:{i:02d}:00", 999) for i in range(11)]
    with pytest.raises(ClarityFormatError, match="11 of 587 rows cannot be used"):
        import_file(new_yorker, clarity_csv(GOOD_DAYS + bad))
    assert not Egv.objects.exists() and not DailySummary.objects.exists()


def test_future_rows_never_become_the_current_reading(new_yorker):
    from apps.glucose import selectors

    now = datetime(2026, 11, 10, 13, 30, tzinfo=UTC)  # 08:30 in New York
    rows = GOOD_DAYS[:100] + [egv_row(5, "2026-11-10T09:00:00", 333, 1)]
    result = import_file(new_yorker, clarity_csv(rows), now=now)
    assert [reason for _, reason in result.skipped_rows] == [
        "2026-11-10T09:00:00 is in the future (read in America/New_York)"
    ]
    assert selectors.latest_egv(patient_id=new_yorker.pk).value != 333


def test_a_reading_without_a_timestamp_is_a_bad_row_not_silently_dropped(new_yorker):
    result = import_file(new_yorker, clarity_csv(GOOD_DAYS + ["9,,EGV,,,,Android G7,120,,,,,,\n"]))
    assert result.skipped_rows == [(582, "no timestamp on this egv row")]


def test_a_huge_line_is_refused_without_reading_it_all(new_yorker):
    data = clarity_csv(GOOD_DAYS[:5]) + b"1," + b"9" * 2_000_000 + b"\n"
    with pytest.raises(ClarityFormatError, match="longer than 10000 characters"):
        import_file(new_yorker, data)


def test_a_file_with_too_many_rows_is_refused_before_anything_is_written(new_yorker, settings):
    settings.CLARITY_IMPORT_MAX_ROWS = 100
    with pytest.raises(ClarityFormatError, match="more than 100 readings and events"):
        import_file(new_yorker, clarity_csv(GOOD_DAYS))
    assert not Egv.objects.exists()


# --- One transaction with the summaries -----------------------------------------------------------


def test_summaries_are_rebuilt_in_the_transaction_of_the_readings(new_yorker, monkeypatch):
    from apps.glucose import summaries

    def broken(**kwargs):
        raise RuntimeError("summary rebuild failed")

    monkeypatch.setattr(summaries, "rebuild_local_days", broken)
    with pytest.raises(RuntimeError):
        import_file(new_yorker, NEW_YORK_FALL_BACK)
    assert not Egv.objects.filter(patient=new_yorker).exists()


def test_summaries_cover_the_touched_days(new_yorker):
    import_file(new_yorker, NEW_YORK_FALL_BACK)
    days = dict(DailySummary.objects.filter(patient=new_yorker).values_list("day", "readings"))
    assert days == {date(2026, 10, 31): 1, date(2026, 11, 1): 39}


def test_summaries_rebuilt_in_steps_equal_one_rebuild(new_yorker, monkeypatch):
    from apps.glucose import summaries
    from apps.glucose.clarity import importer

    monkeypatch.setattr(importer, "CHUNK_ROWS", 50)
    import_file(new_yorker, clarity_csv(GOOD_DAYS))
    stepped = list(
        DailySummary.objects.filter(patient=new_yorker)
        .order_by("day")
        .values_list("day", "readings", "value_sum", "from_70_to_180")
    )
    summaries.rebuild_daily_summaries(patient_id=new_yorker.pk, since=None)
    assert stepped == list(
        DailySummary.objects.filter(patient=new_yorker)
        .order_by("day")
        .values_list("day", "readings", "value_sum", "from_70_to_180")
    )
    assert [readings for _, readings, _, _ in stepped] == [288, 288]


def test_the_command_reads_the_file_in_a_chosen_zone_and_lists_rows_left_out(make_user, tmp_path):
    patient = make_user("cmd@example.com", timezone="UTC")
    path = tmp_path / "clarity.csv"
    more = "".join(
        f"{100 + i},{datetime(2026, 11, 2) + timedelta(minutes=5 * i):%Y-%m-%dT%H:%M:%S},EGV,,,,"
        f"iOS G6,{100 + i % 80},,,,,{2600000 + 300 * i},8JP2KL\r\n"
        for i in range(200)
    )
    path.write_bytes(
        NEW_YORK_FALL_BACK.read_bytes()
        + b"99,2026-11-01T03:20:11,EGV,,,,iOS G6,nan,,,,,2531566,8JP2KL\r\n"
        + more.encode()
    )
    out = io.StringIO()
    call_command("import_clarity", str(path), user=patient.email, timezone="America/New_York", stdout=out)
    assert "Reading local times in America/New_York." in out.getvalue()
    assert "left out line 57: 'nan' is not a glucose value" in out.getvalue()
    assert Egv.objects.filter(patient=patient).earliest("system_time").system_time == datetime(
        2026, 11, 1, 3, 57, 11, tzinfo=UTC
    )
    with pytest.raises(CommandError, match="Unknown time zone 'Mars/Base'"):
        call_command("import_clarity", str(path), user=patient.email, timezone="Mars/Base")
