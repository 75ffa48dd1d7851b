import time
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from django.core.management import call_command

from apps.sandbox import faults
from apps.sandbox.models import Fault, Grant
from tests.sandbox.conftest import dexcom_format, refresh


@pytest.fixture
def window():
    # Five days always hold records of every type (a few hours overnight may hold no event).
    end = datetime.now(UTC) - timedelta(hours=3)
    return {"startDate": dexcom_format(end - timedelta(days=5)), "endDate": dexcom_format(end)}


@pytest.mark.django_db
def test_it_rate_limits_with_retry_after_then_recovers(connect, get_data, window):
    token = connect()["access_token"]
    faults.inject(kind="rate_limit", endpoint="egvs", times=2, retry_after=17)
    for _ in range(2):
        response = get_data(token, "egvs", **window)
        assert response.status_code == 429
        assert response["Retry-After"] == "17"
    assert get_data(token, "egvs", **window).status_code == 200


@pytest.mark.django_db
def test_it_applies_a_fault_only_to_its_endpoint(connect, get_data, window):
    token = connect()["access_token"]
    faults.inject(kind="server_error", endpoint="events")
    assert get_data(token, "egvs", **window).status_code == 200
    response = get_data(token, "events", **window)
    assert response.status_code == 500 and response.parsed is None
    assert orjson.loads(response.content)["error"] == "server_error"
    assert get_data(token, "events", **window).status_code == 200


@pytest.mark.django_db
def test_it_answers_503_with_a_non_json_page(connect, get_data, window):
    token = connect()["access_token"]
    faults.inject(kind="unavailable", retry_after=5)
    response = get_data(token, "alerts", **window)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(response.content)


@pytest.mark.django_db
def test_it_slows_down_a_response(connect, get_data, window):
    token = connect()["access_token"]
    faults.inject(kind="slow", endpoint="devices", seconds=0.6)
    started = time.monotonic()
    assert get_data(token, "devices").status_code == 200
    assert time.monotonic() - started >= 0.6
    started = time.monotonic()
    get_data(token, "devices")
    assert time.monotonic() - started < 0.6


@pytest.mark.django_db
def test_it_cuts_a_json_body_in_half(api, connect, window):
    token = connect()["access_token"]
    faults.inject(kind="malformed_json", endpoint="egvs")
    raw = api.get("/emulator/v3/users/self/egvs", window, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert raw.status_code == 200 and raw["Content-Type"] == "application/json"
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(raw.content)
    again = api.get("/emulator/v3/users/self/egvs", window, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert orjson.loads(again.content)["records"]


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ["egvs", "events", "alerts", "calibrations", "devices"])
def test_it_damages_records_in_three_ways(connect, get_data, window, endpoint):
    token = connect("SandboxUser7" if endpoint != "calibrations" else "SandboxUser1")["access_token"]
    clean = get_data(token, endpoint, **window).parsed["records"]
    faults.inject(kind="bad_records", endpoint=endpoint, count=3)
    damaged = get_data(token, endpoint, **window).parsed["records"]
    assert len(damaged) == len(clean) and damaged != clean
    time_field = "lastUploadDate" if endpoint == "devices" else "systemTime"
    assert time_field not in damaged[0]
    if len(clean) >= 3:
        assert damaged[1] != clean[1] and damaged[2] != clean[2]
        assert damaged[3:] == clean[3:]
    if endpoint == "egvs":
        assert damaged[1]["value"] == 1200 and damaged[2]["trend"] == "tripleUp"


@pytest.mark.django_db
def test_it_revokes_the_grant_on_a_revoked_fault(api, connect, get_data, window):
    tokens = connect("SandboxUser2")
    faults.inject(kind="revoked", sandbox_user_key="SandboxUser2")
    assert get_data(tokens["access_token"], "egvs", **window).status_code == 401
    assert Grant.objects.get(sandbox_user__key="SandboxUser2").revoked_at is not None
    response = refresh(api, tokens["refresh_token"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


@pytest.mark.django_db
def test_it_refuses_the_data_with_403_on_a_forbidden_fault_and_keeps_the_grant(connect, get_data, window):
    tokens = connect("SandboxUser2")
    faults.inject(kind="forbidden", endpoint="egvs", sandbox_user_key="SandboxUser2")
    response = get_data(tokens["access_token"], "egvs", **window)
    assert response.status_code == 403 and response.json()["error"] == "forbidden"
    assert Grant.objects.get(sandbox_user__key="SandboxUser2").revoked_at is None
    assert get_data(tokens["access_token"], "egvs", **window).status_code == 200


@pytest.mark.django_db
def test_it_answers_invalid_grant_on_refresh_for_a_revoked_fault_on_the_token_endpoint(
    api, connect, get_data
):
    tokens = connect("SandboxUser3")
    faults.inject(kind="revoked", endpoint="token")
    response = refresh(api, tokens["refresh_token"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert get_data(tokens["access_token"], "devices").status_code == 401


@pytest.mark.django_db
def test_it_applies_faults_to_the_token_endpoint(api, connect):
    tokens = connect()
    faults.inject(kind="server_error", endpoint="token")
    assert refresh(api, tokens["refresh_token"]).status_code == 500
    # The failed call did not spend the refresh token.
    assert refresh(api, tokens["refresh_token"]).status_code == 200


@pytest.mark.django_db
def test_it_limits_a_fault_to_one_sandbox_user(connect, get_data):
    first, second = connect("SandboxUser1")["access_token"], connect("SandboxUser2")["access_token"]
    faults.inject(kind="server_error", sandbox_user_key="SandboxUser2")
    assert get_data(first, "devices").status_code == 200
    assert get_data(second, "devices").status_code == 500


@pytest.mark.django_db
def test_it_keeps_a_fault_without_times_until_cleared(connect, get_data):
    token = connect()["access_token"]
    faults.inject(kind="server_error", times=None)
    assert [get_data(token, "devices").status_code for _ in range(3)] == [500, 500, 500]
    assert faults.clear() == 1
    assert get_data(token, "devices").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"kind": "meteor"}, "unknown fault kind"),
        ({"kind": "slow", "endpoint": "glucose"}, "unknown endpoint"),
        ({"kind": "slow", "times": 0}, "at least 1"),
    ],
)
def test_it_refuses_a_fault_it_does_not_know(db, kwargs, words):
    with pytest.raises(ValueError, match=words):
        faults.inject(**kwargs)


@pytest.mark.django_db
def test_it_lets_a_person_inject_and_clear_faults_on_a_page(staff_api):
    api = staff_api
    page = api.get("/emulator/faults/")
    assert page.status_code == 200 and "rate_limit" in page.content.decode()
    api.post(
        "/emulator/faults/",
        {"action": "inject", "kind": "slow", "endpoint": "egvs", "times": "2", "seconds": "1.5"},
    )
    fault = Fault.objects.get()
    assert (fault.kind, fault.endpoint, fault.remaining, fault.params) == (
        "slow",
        "egvs",
        2,
        {"seconds": 1.5},
    )
    response = api.post(
        "/emulator/faults/", {"action": "inject", "kind": "slow", "times": "lots"}, follow=True
    )
    assert "must be numbers" in response.content.decode()
    api.post("/emulator/faults/", {"action": "clear"})
    assert not Fault.objects.exists()


@pytest.mark.django_db
def test_it_toggles_faults_from_the_command_line(capsys):
    call_command(
        "sandbox_fault", "rate_limit", "--endpoint", "egvs", "--times", "3", "--param", "retry_after=9"
    )
    fault = Fault.objects.get()
    assert (fault.kind, fault.remaining, fault.params) == ("rate_limit", 3, {"retry_after": 9})
    call_command("sandbox_fault", "--clear")
    assert not Fault.objects.exists()
    assert "Cleared 1 fault" in capsys.readouterr().out
