"""The HTTP client against canned Dexcom answers (responses): the only place HTTP is mocked."""

from datetime import UTC, datetime, timedelta

import pytest
import requests
import responses

from apps.dexcom import client

BASE = "https://dexcom.test"


@pytest.fixture(autouse=True)
def dexcom_settings(settings):
    settings.DEXCOM_BASE_URL = BASE
    settings.DEXCOM_CLIENT_ID = "client-1"
    settings.DEXCOM_CLIENT_SECRET = "secret-1"


TOKEN_JSON = {"access_token": "acc-1", "refresh_token": "ref-1", "expires_in": 7200, "token_type": "Bearer"}


@responses.activate
def test_it_exchanges_a_code_with_credentials_in_the_form():
    responses.post(f"{BASE}/v3/oauth2/token", json=TOKEN_JSON)
    pair = client.exchange_code(code="abc", redirect_uri="https://app.test/cb")
    assert (pair.access_token, pair.refresh_token) == ("acc-1", "ref-1")
    assert pair.expires_at > datetime.now(UTC) + timedelta(seconds=7100)
    body = responses.calls[0].request.body
    for part in ["grant_type=authorization_code", "code=abc", "client_id=client-1", "client_secret=secret-1"]:
        assert part in body
    assert "Authorization" not in responses.calls[0].request.headers  # no HTTP Basic


@responses.activate
def test_it_reports_a_refused_refresh_as_grant_refused():
    responses.post(f"{BASE}/v3/oauth2/token", json={"error": "invalid_grant"}, status=400)
    with pytest.raises(client.DexcomGrantRefused) as raised:
        client.refresh_tokens(refresh_token="spent")
    assert raised.value.error_code == "invalid_grant"
    assert isinstance(raised.value, client.DexcomAuthError)


@responses.activate
def test_it_refuses_a_token_answer_without_refresh_token():
    responses.post(f"{BASE}/v3/oauth2/token", json={"access_token": "a"})
    with pytest.raises(client.DexcomBadResponse):
        client.refresh_tokens(refresh_token="r")


@responses.activate
def test_it_sends_windows_in_dexcoms_date_format_with_a_bearer_token():
    responses.get(
        f"{BASE}/v3/users/self/egvs",
        json={"recordType": "egv", "recordVersion": "3.0", "userId": "u1", "records": [{"recordId": "r"}]},
    )
    page = client.get_records(
        access_token="tok",
        record_type="egvs",
        start=datetime(2024, 1, 1, tzinfo=UTC),
        end=datetime(2024, 1, 2, 12, tzinfo=UTC),
    )
    assert page.user_id == "u1" and page.records == [{"recordId": "r"}]
    request = responses.calls[0].request
    assert "startDate=2024-01-01T00%3A00%3A00" in request.url
    assert "endDate=2024-01-02T12%3A00%3A00" in request.url
    assert request.headers["Authorization"] == "Bearer tok"


def test_it_refuses_windows_longer_than_30_days():
    with pytest.raises(ValueError):
        client.get_records(
            access_token="t",
            record_type="egvs",
            start=datetime(2024, 1, 1, tzinfo=UTC),
            end=datetime(2024, 2, 1, tzinfo=UTC),
        )


@responses.activate
def test_it_raises_rate_limited_with_retry_after():
    responses.get(f"{BASE}/v3/users/self/devices", status=429, headers={"Retry-After": "17"})
    with pytest.raises(client.DexcomRateLimited) as raised:
        client.get_devices(access_token="t")
    assert raised.value.retry_after == 17


@responses.activate
def test_it_waits_a_minute_when_retry_after_is_missing():
    responses.get(f"{BASE}/v3/users/self/devices", status=429)
    with pytest.raises(client.DexcomRateLimited) as raised:
        client.get_devices(access_token="t")
    assert raised.value.retry_after == 60


@pytest.mark.parametrize("status", [500, 502, 503])
@responses.activate
def test_it_raises_server_error_on_5xx(status):
    responses.get(f"{BASE}/v3/users/self/devices", status=status)
    with pytest.raises(client.DexcomServerError):
        client.get_devices(access_token="t")


@responses.activate
def test_it_raises_auth_error_on_401():
    responses.get(f"{BASE}/v3/users/self/devices", status=401)
    with pytest.raises(client.DexcomAuthError):
        client.get_devices(access_token="t")


@responses.activate
def test_it_raises_access_refused_on_403_which_is_not_a_token_problem():
    responses.get(f"{BASE}/v3/users/self/devices", status=403, json={"error": "forbidden"})
    with pytest.raises(client.DexcomAccessRefused, match="access refused by Dexcom") as raised:
        client.get_devices(access_token="t")
    assert not isinstance(raised.value, client.DexcomAuthError)


@responses.activate
def test_it_raises_bad_response_on_truncated_json():
    responses.get(f"{BASE}/v3/users/self/devices", body='{"records": [', content_type="application/json")
    with pytest.raises(client.DexcomBadResponse):
        client.get_devices(access_token="t")


@responses.activate
def test_it_raises_bad_response_when_records_are_missing():
    responses.get(f"{BASE}/v3/users/self/devices", json={"recordType": "device"})
    with pytest.raises(client.DexcomBadResponse):
        client.get_devices(access_token="t")


@responses.activate
def test_it_raises_unavailable_on_timeouts():
    responses.get(f"{BASE}/v3/users/self/devices", body=requests.ReadTimeout("slow"))
    with pytest.raises(client.DexcomUnavailable):
        client.get_devices(access_token="t")


@responses.activate
def test_it_reads_data_range_blocks_and_sends_last_sync_time_with_zone():
    responses.get(
        f"{BASE}/v3/users/self/dataRange",
        json={
            "recordType": "dataRange",
            "recordVersion": "3.0",
            "userId": "u9",
            "egvs": {
                "start": {"systemTime": "2024-01-01T00:00:00", "displayTime": "2023-12-31T16:00:00"},
                "end": {"systemTime": "2024-01-10T00:00:00Z", "displayTime": "2024-01-09T16:00:00-08:00"},
            },
            "calibrations": None,
        },
    )
    data_range = client.get_data_range(access_token="t", last_sync_time=datetime(2024, 1, 5, tzinfo=UTC))
    assert data_range.user_id == "u9"
    assert data_range.egvs.end == datetime(2024, 1, 10, tzinfo=UTC)
    assert data_range.calibrations is None and data_range.events is None
    assert data_range.latest_end == datetime(2024, 1, 10, tzinfo=UTC)
    assert "lastSyncTime=2024-01-05T00%3A00%3A00Z" in responses.calls[0].request.url


@responses.activate
def test_it_never_puts_the_token_in_error_messages():
    responses.get(f"{BASE}/v3/users/self/devices", status=418)
    with pytest.raises(client.DexcomBadResponse) as raised:
        client.get_devices(access_token="very-secret-token")
    assert "very-secret-token" not in str(raised.value)
