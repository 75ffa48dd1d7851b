from datetime import UTC, datetime

import pytest

from apps.dexcom.times import DexcomTimeError, format_dexcom_time, parse_dexcom_time


@pytest.mark.parametrize(
    ("text", "wall", "offset"),
    [
        ("2021-02-03T14:15:16Z", datetime(2021, 2, 3, 14, 15, 16), 0),
        ("2021-02-03T14:15Z", datetime(2021, 2, 3, 14, 15), 0),  # seconds missing
        ("2022-06-17T03:59:11", datetime(2022, 6, 17, 3, 59, 11), None),  # receiver: no offset
        ("2021-04-05T10:52:48-06:59:59", datetime(2021, 4, 5, 10, 52, 48), -25199),
        ("2021-04-05T10:52:48+00:00", datetime(2021, 4, 5, 10, 52, 48), 0),
        ("2021-7-5T1:2:3", datetime(2021, 7, 5, 1, 2, 3), None),  # unpadded fields
        ("2021-07-05T10:49:22.123-07:00", datetime(2021, 7, 5, 10, 49, 22, 123000), -25200),
        ("2021-04-05T10:52:48+0530", datetime(2021, 4, 5, 10, 52, 48), 19800),
    ],
)
def test_it_parses_every_shape_dexcom_sends(text, wall, offset):
    parsed = parse_dexcom_time(text)
    assert parsed.wall == wall
    assert parsed.offset_seconds == offset


def test_it_reads_a_time_without_offset_as_utc():
    assert parse_dexcom_time("2022-06-17T03:59:11").utc == datetime(2022, 6, 17, 3, 59, 11, tzinfo=UTC)


def test_it_converts_offsets_with_seconds_to_utc():
    parsed = parse_dexcom_time("2021-04-05T10:52:48-06:59:59")
    assert parsed.utc == datetime(2021, 4, 5, 17, 52, 47, tzinfo=UTC)


@pytest.mark.parametrize("text", ["", "yesterday", "2021-13-01T00:00:00", "2021-02-30T00:00:00", None, 5])
def test_it_refuses_what_is_not_a_time(text):
    with pytest.raises(DexcomTimeError):
        parse_dexcom_time(text)


def test_it_formats_request_dates_in_utc_without_offset():
    from zoneinfo import ZoneInfo

    moment = datetime(2024, 3, 1, 9, 30, 5, 999, tzinfo=ZoneInfo("Europe/Paris"))
    assert format_dexcom_time(moment) == "2024-03-01T08:30:05"
