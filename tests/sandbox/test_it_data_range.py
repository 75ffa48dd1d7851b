from datetime import UTC, datetime, timedelta

import pytest

from apps.sandbox import truth


def instant(text):
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@pytest.mark.django_db
def test_it_spans_the_whole_history_up_to_the_delay_edge(connect, get_data):
    body = get_data(connect("SandboxUser1")["access_token"], "dataRange").parsed
    now = datetime.now(UTC)
    for block in ("egvs", "events", "calibrations"):
        assert set(body[block]) == {"start", "end"}
        assert set(body[block]["start"]) == {"systemTime", "displayTime"}
        assert instant(body[block]["start"]["systemTime"]) < now - timedelta(days=100)
    end = instant(body["egvs"]["end"]["systemTime"])
    assert now - timedelta(minutes=75) < end <= now - timedelta(minutes=60)


@pytest.mark.django_db
def test_it_matches_the_first_and_last_egv_the_api_serves(connect, get_data):
    token = connect("SandboxUser3")["access_token"]
    body = get_data(token, "dataRange").parsed
    end = instant(body["egvs"]["end"]["systemTime"])
    last_day = get_data(
        token,
        "egvs",
        startDate=(end - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S"),
        endDate=(end + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"),
    ).parsed["records"]
    assert last_day[0]["systemTime"] == body["egvs"]["end"]["systemTime"]  # newest first
    assert last_day[0]["displayTime"] == body["egvs"]["end"]["displayTime"]
    start = instant(body["egvs"]["start"]["systemTime"])
    first_day = get_data(
        token,
        "egvs",
        startDate=(start - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S"),
        endDate=(start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S"),
    ).parsed["records"]
    assert first_day[-1]["systemTime"] == body["egvs"]["start"]["systemTime"]


@pytest.mark.django_db
def test_it_gives_no_calibrations_block_for_g7_users(connect, get_data):
    body = get_data(connect("SandboxUser2")["access_token"], "dataRange").parsed
    assert body["calibrations"] is None
    assert body["egvs"] is not None and body["events"] is not None


@pytest.mark.django_db
def test_it_narrows_to_data_newer_than_last_sync_time(connect, get_data):
    # SandboxUser3 has no late uploads (test_it_late_uploads covers those): what arrived after
    # lastSyncTime is exactly what was measured after it.
    token = connect("SandboxUser3")["access_token"]
    last_sync = datetime.now(UTC) - timedelta(hours=12)
    body = get_data(token, "dataRange", lastSyncTime=last_sync.strftime("%Y-%m-%dT%H:%M:%SZ")).parsed
    start = instant(body["egvs"]["start"]["systemTime"])
    assert last_sync < start < last_sync + timedelta(minutes=30)
    full = get_data(token, "dataRange").parsed
    assert body["egvs"]["end"] == full["egvs"]["end"]


@pytest.mark.django_db
def test_it_returns_null_blocks_when_nothing_is_newer_than_last_sync_time(connect, get_data):
    token = connect("SandboxUser1")["access_token"]
    body = get_data(token, "dataRange", lastSyncTime=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")).parsed
    assert body["egvs"] is None and body["events"] is None and body["calibrations"] is None
    assert body["recordType"] == "dataRange"


@pytest.mark.django_db
def test_it_refuses_a_garbage_last_sync_time(connect, get_data):
    response = get_data(connect()["access_token"], "dataRange", lastSyncTime="last tuesday")
    assert response.status_code == 400
    assert "lastSyncTime" in response.parsed["error_description"]


@pytest.mark.django_db
def test_it_agrees_with_the_truth_oracle(connect, get_data):
    body = get_data(connect("SandboxUser6")["access_token"], "dataRange").parsed
    expected = truth.data_range(sandbox_user_key="SandboxUser6")
    assert {key: body[key] for key in ("calibrations", "egvs", "events")} == expected
