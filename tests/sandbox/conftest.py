"""Fixtures for the emulator tests: a connected sandbox user and a helper to call the API."""

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from django.test import Client

from apps.sandbox import services

CLIENT_ID = "dexweb-demo-client"
CLIENT_SECRET = "dexweb-demo-secret"
REDIRECT_URI = "http://127.0.0.1:8000/accounts/dexcom/login/callback/"
TOKEN_URL = "/emulator/v3/oauth2/token"
DATA_URL = "/emulator/v3/users/self/"


def dexcom_format(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


@pytest.fixture(autouse=True)
def emulator_settings(settings):
    """Pin the emulator's configuration so the tests do not depend on the environment."""
    settings.EMULATOR_CLIENTS = {CLIENT_ID: CLIENT_SECRET, "other-client": "other-secret"}
    settings.EMULATOR_DATA_DELAY_MINUTES = 60
    settings.EMULATOR_RATE_LIMIT_PER_HOUR = 60000
    return settings


@pytest.fixture
def api(db):
    return Client()


@pytest.fixture
def staff_api(db, django_user_model):
    """A client signed in as staff: the emulator's control pages are staff-only."""
    client = Client()
    client.force_login(
        django_user_model.objects.create_user(
            email="staff@example.com", password="x-long-pass-42", is_staff=True
        )
    )
    return client


def exchange_code(api, code, *, redirect_uri=REDIRECT_URI, client_id=CLIENT_ID, client_secret=CLIENT_SECRET):
    return api.post(
        TOKEN_URL,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "client_secret": client_secret,
        },
    )


def refresh(api, refresh_token, *, client_secret=CLIENT_SECRET):
    return api.post(
        TOKEN_URL,
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": CLIENT_ID,
            "client_secret": client_secret,
        },
    )


@pytest.fixture
def connect(api):
    """connect("SandboxUser2") -> the token response body of a fresh authorization."""

    def _connect(sandbox_user_key="SandboxUser1", client_id=CLIENT_ID, client_secret=CLIENT_SECRET):
        code = services.authorization_code_for(
            sandbox_user_key=sandbox_user_key, client_id=client_id, redirect_uri=REDIRECT_URI
        )
        response = exchange_code(api, code, client_id=client_id, client_secret=client_secret)
        assert response.status_code == 200, response.content
        return response.json()

    return _connect


@pytest.fixture
def get_data(api):
    """get_data(token, "egvs", startDate=..., endDate=...) -> the response (JSON already parsed)."""

    def _get(access_token, endpoint, **params):
        response = api.get(DATA_URL + endpoint, params, HTTP_AUTHORIZATION=f"Bearer {access_token}")
        response.parsed = (
            orjson.loads(response.content) if response.status_code in (200, 400, 401, 404) else None
        )
        return response

    return _get


@pytest.fixture
def recent_window():
    """A one-day window that ended well before the data delay edge."""
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    return end - timedelta(days=1), end
