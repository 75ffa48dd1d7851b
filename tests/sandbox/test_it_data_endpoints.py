import re
from datetime import UTC, datetime, timedelta

import pytest

from apps.sandbox import truth
from tests.sandbox.conftest import dexcom_format

WINDOWED = ["egvs", "alerts", "calibrations", "events"]
RECORD_TYPES = {
    "egvs": "egv",
    "alerts": "alert",
    "calibrations": "calibration",
    "events": "event",
    "devices": "device",
    "dataRange": "dataRange",
}


def window_params(start, end):
    return {"startDate": dexcom_format(start), "endDate": dexcom_format(end)}


def parse_system_time(text: str) -> datetime:
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", list(RECORD_TYPES))
def test_it_wraps_records_in_dexcoms_envelope(connect, get_data, recent_window, endpoint):
    tokens = connect("SandboxUser1")
    response = get_data(tokens["access_token"], endpoint, **window_params(*recent_window))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.parsed
    assert body["recordType"] == RECORD_TYPES[endpoint]
    assert body["recordVersion"] == "3.0"
    assert re.fullmatch(r"[0-9a-f]{64}", body["userId"])
    if endpoint == "dataRange":
        assert set(body) == {"recordType", "recordVersion", "userId", "calibrations", "egvs", "events"}
    else:
        assert set(body) == {"recordType", "recordVersion", "userId", "records"}
        assert body["records"], f"SandboxUser1 should have {endpoint} in a day"


@pytest.mark.django_db
def test_it_gives_each_client_its_own_user_id(connect, get_data):
    ours = get_data(connect("SandboxUser1")["access_token"], "devices").parsed["userId"]
    theirs = get_data(
        connect("SandboxUser1", "other-client", "other-secret")["access_token"], "devices"
    ).parsed["userId"]
    another_user = get_data(connect("SandboxUser2")["access_token"], "devices").parsed["userId"]
    assert len({ours, theirs, another_user}) == 3


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", WINDOWED)
def test_it_refuses_a_window_longer_than_30_days(connect, get_data, endpoint):
    token = connect()["access_token"]
    end = datetime(2026, 11, 1, tzinfo=UTC)
    response = get_data(token, endpoint, **window_params(end - timedelta(days=30, seconds=1), end))
    assert response.status_code == 400
    assert response.parsed["error"] == "invalid_request"
    assert "30 days" in response.parsed["error_description"]
    assert get_data(token, endpoint, **window_params(end - timedelta(days=30), end)).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({}, "startDate and endDate required"),
        ({"startDate": "2026-11-01T00:00:00"}, "endDate required"),
        ({"startDate": "yesterday", "endDate": "2026-11-02T00:00:00"}, "is not a date-time"),
        ({"startDate": "2026-13-01T00:00:00", "endDate": "2026-11-02T00:00:00"}, "not a valid date-time"),
        ({"startDate": "2026-11-02T00:00:00", "endDate": "2026-11-01T00:00:00"}, "before endDate"),
        ({"startDate": "2026-11-01T00:00:00", "endDate": "2026-11-01T00:00:00"}, "before endDate"),
    ],
)
def test_it_explains_a_bad_window_with_a_400(connect, get_data, params, words):
    response = get_data(connect()["access_token"], "egvs", **params)
    assert response.status_code == 400
    assert words in response.parsed["error_description"]


@pytest.mark.django_db
def test_it_accepts_the_lenient_date_forms_dexcom_accepts(connect, get_data, recent_window):
    token = connect("SandboxUser3")["access_token"]
    start, end = recent_window
    canonical = get_data(token, "egvs", **window_params(start, end)).parsed["records"]
    assert canonical
    variants = [
        (dexcom_format(start) + "Z", dexcom_format(end) + "Z"),
        (start.strftime("%Y-%m-%dT%H:%M"), end.strftime("%Y-%m-%dT%H:%M")),
        (start.astimezone(datetime.now().astimezone().tzinfo).isoformat(), dexcom_format(end) + ".000"),
        ((start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00"), dexcom_format(end)),
        (f"{start.year}-{start.month}-{start.day}T{start.hour}:{start.minute}:0", dexcom_format(end)),
    ]
    for start_text, end_text in variants:
        response = get_data(token, "egvs", startDate=start_text, endDate=end_text)
        assert response.status_code == 200, (start_text, response.parsed)
        assert response.parsed["records"] == canonical, start_text


@pytest.mark.django_db
def test_it_includes_start_and_excludes_end_by_system_time(connect, get_data, recent_window):
    token = connect("SandboxUser2")["access_token"]
    records = get_data(token, "egvs", **window_params(*recent_window)).parsed["records"]
    older, newer = records[11], records[10]  # newest first
    around = get_data(
        token,
        "egvs",
        **window_params(parse_system_time(older["systemTime"]), parse_system_time(newer["systemTime"])),
    ).parsed["records"]
    assert [record["recordId"] for record in around] == [older["recordId"]]


@pytest.mark.django_db
@pytest.mark.parametrize("delay_minutes", [60, 180])
def test_it_publishes_records_only_after_the_data_delay(settings, connect, get_data, delay_minutes):
    settings.EMULATOR_DATA_DELAY_MINUTES = delay_minutes
    token = connect("SandboxUser1")["access_token"]
    now = datetime.now(UTC)
    response = get_data(token, "egvs", **window_params(now - timedelta(hours=8), now + timedelta(hours=1)))
    times = [parse_system_time(record["systemTime"]) for record in response.parsed["records"]]
    assert times
    edge = now - timedelta(minutes=delay_minutes)
    assert max(times) <= edge + timedelta(seconds=1)
    assert max(times) > edge - timedelta(minutes=60), "readings should reach close to the delay edge"


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", WINDOWED + ["devices"])
def test_it_returns_the_same_records_for_the_same_query(connect, get_data, endpoint):
    token = connect("SandboxUser7")["access_token"]
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    params = window_params(end - timedelta(days=10), end)
    first, second = get_data(token, endpoint, **params), get_data(token, endpoint, **params)
    assert first.content == second.content


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", WINDOWED + ["devices"])
def test_it_serves_exactly_what_the_truth_oracle_says(connect, get_data, endpoint):
    token = connect("SandboxUser5")["access_token"]
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    start = end - timedelta(days=6)
    served = get_data(token, endpoint, **window_params(start, end)).parsed["records"]
    assert served == truth.records(
        sandbox_user_key="SandboxUser5", record_type=endpoint, start=start, end=end
    )


@pytest.mark.django_db
def test_it_returns_the_same_records_whichever_window_they_are_asked_in(connect, get_data):
    token = connect("SandboxUser4")["access_token"]
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    middle, start = end - timedelta(days=2), end - timedelta(days=4)
    for endpoint in ("egvs", "alerts", "events"):
        whole = get_data(token, endpoint, **window_params(start, end)).parsed["records"]
        halves = (
            get_data(token, endpoint, **window_params(middle, end)).parsed["records"]
            + get_data(token, endpoint, **window_params(start, middle)).parsed["records"]
        )
        assert whole == halves, endpoint


@pytest.mark.django_db
def test_an_alarm_whose_end_lies_past_the_window_is_still_served_in_it(connect, get_data):
    # Cut the window between each alarm and its end: the alarm must be served by the window it
    # falls in, whatever comes after that window's end.
    token = connect("SandboxUser4")["access_token"]
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    start = end - timedelta(days=6)
    whole = get_data(token, "alerts", **window_params(start, end)).parsed["records"]
    alarms = [record for record in whole if record["alertState"] == "activeAlarming"]
    cuts = {parse_system_time(record["systemTime"]) + timedelta(seconds=1) for record in alarms}
    assert any(record["alertName"] == "noReadings" for record in alarms)
    for middle in sorted(cuts)[:: max(1, len(cuts) // 8)]:
        halves = (
            get_data(token, "alerts", **window_params(middle, end)).parsed["records"]
            + get_data(token, "alerts", **window_params(start, middle)).parsed["records"]
        )
        assert whole == halves, middle


@pytest.mark.django_db
def test_it_accepts_and_ignores_a_window_on_devices(connect, get_data):
    token = connect("SandboxUser1")["access_token"]
    plain = get_data(token, "devices").parsed["records"]
    windowed = get_data(
        token, "devices", startDate="2020-01-01T00:00:00", endDate="2026-01-01T00:00:00"
    ).parsed["records"]
    garbage = get_data(token, "devices", startDate="whenever").parsed["records"]
    assert plain == windowed == garbage
    # The phone app once per transmitter it used (G6: 90 days each) and the retired receiver.
    assert len(plain) >= 3 and [d["displayDevice"] for d in plain].count("receiver") == 1


@pytest.mark.django_db
def test_it_lists_records_newest_first(connect, get_data, recent_window):
    token = connect("SandboxUser1")["access_token"]
    start, end = recent_window
    for endpoint in WINDOWED:
        records = get_data(token, endpoint, **window_params(end - timedelta(days=5), end)).parsed["records"]
        times = [parse_system_time(record["systemTime"]) for record in records]
        assert times == sorted(times, reverse=True) and len(times) > 1, endpoint


@pytest.mark.django_db
def test_it_answers_404_for_an_unknown_endpoint(connect, get_data):
    response = get_data(connect()["access_token"], "glucose")
    assert response.status_code == 404


@pytest.mark.django_db
def test_it_serves_a_30_day_window_of_egvs(connect, get_data):
    token = connect("SandboxUser1")["access_token"]
    end = datetime.now(UTC) - timedelta(hours=2)
    response = get_data(token, "egvs", **window_params(end - timedelta(days=30), end))
    records = response.parsed["records"]
    # 8,640 slots minus sensor changes, warm-ups and signal loss.
    assert 7800 < len(records) <= 8640
    assert len({record["recordId"] for record in records}) == len(records)
