"""The whole OAuth flow and the data API over real HTTP, as our client (and curl) will use it."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from apps.sandbox import faults, truth
from tests.sandbox.conftest import CLIENT_ID, CLIENT_SECRET


@pytest.mark.django_db(transaction=True)
def test_it_serves_the_flow_and_the_data_over_http(live_server):
    base = live_server.url + "/emulator/v3"
    redirect_uri = live_server.url + "/callback/"
    browser = requests.Session()
    consent = browser.get(
        base + "/oauth2/login",
        params={
            "client_id": CLIENT_ID,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": "offline_access",
            "state": "live-state",
        },
        timeout=10,
    )
    assert consent.status_code == 200
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', consent.text).group(1)
    decision = browser.post(
        base + "/oauth2/login",
        data={
            "csrfmiddlewaretoken": csrf,
            "client_id": CLIENT_ID,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": "offline_access",
            "state": "live-state",
            "sandbox_user": "SandboxUser5",
            "decision": "authorize",
        },
        headers={"Referer": consent.url},
        allow_redirects=False,
        timeout=10,
    )
    assert decision.status_code == 302
    location = decision.headers["Location"]
    assert location.startswith(redirect_uri)
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["live-state"]

    token = requests.post(
        base + "/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": redirect_uri,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
        timeout=10,
    )
    assert token.status_code == 200, token.text
    tokens = token.json()

    end = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    start = end - timedelta(days=30)
    egvs = requests.get(
        base + "/users/self/egvs",
        params={
            "startDate": start.strftime("%Y-%m-%dT%H:%M:%S"),
            "endDate": end.strftime("%Y-%m-%dT%H:%M:%S"),
        },
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=30,
    )
    assert egvs.status_code == 200
    body = egvs.json()
    assert body["recordType"] == "egv" and len(body["records"]) > 7000
    assert body["records"] == truth.records(
        sandbox_user_key="SandboxUser5", record_type="egvs", start=start, end=end
    )

    # A fault stored by this process is obeyed by the server thread.
    faults.inject(kind="rate_limit", endpoint="devices", retry_after=42)
    limited = requests.get(
        base + "/users/self/devices",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    )
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "42"

    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    assert requests.post(base + "/oauth2/token", data=refresh, timeout=10).status_code == 200
    reused = requests.post(base + "/oauth2/token", data=refresh, timeout=10)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
