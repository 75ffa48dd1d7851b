from urllib.parse import parse_qs, urlsplit

import pytest

from apps.sandbox.models import AuthorizationCode, Grant
from tests.sandbox.conftest import CLIENT_ID, REDIRECT_URI

LOGIN_URL = "/emulator/v3/oauth2/login"


def login_params(**overrides):
    params = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": "offline_access",
        "state": "s-123",
    }
    params.update(overrides)
    return {key: value for key, value in params.items() if value is not None}


def query_of(response):
    return {key: values[0] for key, values in parse_qs(urlsplit(response["Location"]).query).items()}


@pytest.mark.django_db
def test_it_shows_the_consent_page_with_every_sandbox_user(api):
    response = api.get(LOGIN_URL, login_params())
    assert response.status_code == 200
    page = response.content.decode()
    for number in range(1, 8):
        assert f"SandboxUser{number}" in page
    assert "Authorize" in page and "Deny" in page and CLIENT_ID in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"client_id": "nobody"}, "Unknown client_id"),
        ({"client_id": None}, "Unknown client_id"),
        ({"redirect_uri": "not-a-url"}, "redirect_uri must be an absolute"),
        ({"redirect_uri": "ftp://example.com/cb"}, "redirect_uri must be an absolute"),
        ({"redirect_uri": REDIRECT_URI + "#frag"}, "fragment"),
    ],
)
def test_it_shows_an_error_page_instead_of_redirecting_for_bad_client_or_redirect(api, overrides, message):
    response = api.get(LOGIN_URL, login_params(**overrides))
    assert response.status_code == 400
    assert "Location" not in response
    assert message in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "everything"}, "invalid_scope"),
        ({"state": None}, "invalid_request"),
    ],
)
def test_it_redirects_other_errors_back_to_the_client(api, overrides, error):
    response = api.get(LOGIN_URL, login_params(**overrides))
    assert response.status_code == 302
    assert response["Location"].startswith(REDIRECT_URI)
    assert query_of(response)["error"] == error


@pytest.mark.django_db
def test_it_redirects_with_a_code_and_the_same_state_on_authorize(api):
    response = api.post(LOGIN_URL, login_params(sandbox_user="SandboxUser3", decision="authorize"))
    assert response.status_code == 302
    query = query_of(response)
    assert query["state"] == "s-123"
    assert len(query["code"]) > 20
    grant = Grant.objects.get(sandbox_user__key="SandboxUser3", client_id=CLIENT_ID)
    assert grant.codes.count() == 1
    # Only the hash is kept.
    assert not AuthorizationCode.objects.filter(code_hash=query["code"]).exists()


@pytest.mark.django_db
def test_it_redirects_with_access_denied_on_deny(api):
    response = api.post(LOGIN_URL, login_params(sandbox_user="SandboxUser1", decision="deny"))
    assert response.status_code == 302
    assert query_of(response) == {"error": "access_denied", "state": "s-123"}
    assert not Grant.objects.exists()


@pytest.mark.django_db
def test_it_asks_again_when_no_known_user_was_picked(api):
    response = api.post(LOGIN_URL, login_params(sandbox_user="Mallory", decision="authorize"))
    assert response.status_code == 400
    assert "Pick a sandbox user" in response.content.decode()


@pytest.mark.django_db
def test_it_keeps_the_query_the_redirect_uri_already_has(api):
    response = api.post(
        LOGIN_URL,
        login_params(
            redirect_uri=REDIRECT_URI + "?next=%2Fhome", sandbox_user="SandboxUser1", decision="authorize"
        ),
    )
    query = query_of(response)
    assert query["next"] == "/home" and query["state"] == "s-123" and query["code"]
