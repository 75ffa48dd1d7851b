from datetime import UTC, datetime

import pytest

from apps.sync.records import rows_from_records

NOW = datetime(2026, 1, 10, tzinfo=UTC)


def egv(**fields):
    record = {
        "recordId": "id-1",
        "systemTime": "2026-01-01T12:00:00Z",
        "displayTime": "2026-01-01T07:00:00-05:00",
        "transmitterId": "abc",
        "transmitterTicks": 1000,
        "value": 120,
        "status": None,
        "trend": "flat",
        "trendRate": 0.3,
        "unit": "mg/dL",
        "rateUnit": "mg/dL/min",
        "displayDevice": "iOS",
        "transmitterGeneration": "g7",
    }
    record.update(fields)
    return record


def rows(record_type, records):
    return rows_from_records(record_type, records, patient_id=1, now=NOW)


def test_it_keeps_local_time_and_offset():
    [row], bad = rows("egvs", [egv()])
    assert not bad
    assert row["system_time"] == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert row["display_offset_seconds"] == -5 * 3600
    assert row["display_delta_seconds"] == -5 * 3600


def test_it_keeps_receiver_times_without_offset():
    [row], _ = rows(
        "egvs",
        [egv(systemTime="2026-01-01T12:00:00", displayTime="2026-01-01T04:00:07", displayDevice="receiver")],
    )
    assert row["display_offset_seconds"] is None
    assert row["display_delta_seconds"] == -8 * 3600 + 7


def test_it_keeps_low_and_high_with_their_status():
    got, bad = rows(
        "egvs", [egv(recordId="a", value=39, status="low"), egv(recordId="b", value=401, status="high")]
    )
    assert not bad
    assert [(r["value"], r["status"]) for r in got] == [(39, "low"), (401, "high")]


def test_it_keeps_unknown_enum_values():
    [row], bad = rows("egvs", [egv(trend="tripleUp", transmitterGeneration="g9")])
    assert not bad and row["trend"] == "tripleUp" and row["transmitter_generation"] == "g9"


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ({"recordId": None}, "recordId is missing"),
        ({"systemTime": None}, "systemTime is missing"),
        ({"systemTime": "2026-13-45T99:99:99"}, "systemTime is not a time"),
        ({"value": 1200}, "value 1200 is outside"),
        ({"value": "120"}, "value is not a number"),
        ({"value": None, "status": None}, "value is missing"),
        ({"trend": "x" * 100}, "trend is longer"),
        ({"systemTime": "1990-01-01T00:00:00Z"}, "not a plausible time"),
    ],
)
def test_it_quarantines_bad_records_with_a_reason(damage, reason):
    got, bad = rows("egvs", [egv(**damage), egv(recordId="good")])
    assert [r["record_id"] for r in got] == ["good"]  # the batch goes on
    assert len(bad) == 1 and reason in bad[0].reason
    assert bad[0].raw == egv(**damage)


def test_it_keeps_the_last_copy_of_a_repeated_record_id():
    got, _ = rows("egvs", [egv(value=100), egv(value=110)])
    assert [r["value"] for r in got] == [110]


def test_it_reads_event_values_given_as_text_or_numbers():
    base = {
        "recordId": "e",
        "systemTime": "2026-01-01T12:00:00Z",
        "displayTime": "2026-01-01T12:00:00Z",
        "eventStatus": "created",
    }
    got, bad = rows(
        "events",
        [
            {**base, "recordId": "e1", "eventType": "carbs", "value": "45", "unit": "grams"},
            {**base, "recordId": "e2", "eventType": "insulin", "value": 4.5, "unit": "units"},
            {**base, "recordId": "e3", "eventType": "notes", "value": "felt dizzy"},
            {**base, "recordId": "e4", "eventType": "exercise", "value": "-1", "unit": "minutes"},
            {**base, "recordId": "e5", "eventType": "insulin", "value": "-500", "unit": "units"},
            {**base, "recordId": "e6", "eventType": "ketones", "eventStatus": "deleted", "value": "0.6"},
        ],
    )
    by_id = {r["record_id"]: r for r in got}
    assert by_id["e1"]["value"] == "45" and by_id["e1"]["numeric_value"] == 45
    assert by_id["e2"]["numeric_value"] == 4.5
    assert by_id["e3"]["numeric_value"] is None
    assert by_id["e4"]["numeric_value"] == -1  # a quirk Dexcom really sends
    assert by_id["e6"]["event_type"] == "ketones" and by_id["e6"]["event_status"] == "deleted"
    assert [b.record_id for b in bad] == ["e5"]


def test_it_refuses_a_record_that_is_not_an_object():
    got, bad = rows("alerts", ["oops", None])
    assert got == [] and len(bad) == 2
