from datetime import timedelta

import pytest
from django.utils import timezone

from apps.sandbox import services
from apps.sandbox.models import AccessToken, AuthorizationCode, RefreshToken, hash_token
from tests.sandbox.conftest import REDIRECT_URI, TOKEN_URL, exchange_code, refresh


def new_code(sandbox_user_key="SandboxUser1"):
    return services.authorization_code_for(
        sandbox_user_key=sandbox_user_key, client_id="dexweb-demo-client", redirect_uri=REDIRECT_URI
    )


@pytest.mark.django_db
def test_it_exchanges_a_code_for_tokens_shaped_like_dexcoms(api):
    response = exchange_code(api, new_code())
    assert response.status_code == 200
    body = response.json()
    assert body["expires_in"] == 7200
    assert body["token_type"] == "Bearer"
    assert body["refresh_expires_in"] == 0
    assert body["access_token"] and body["refresh_token"] and body["access_token"] != body["refresh_token"]
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_it_stores_only_hashes_of_tokens(api):
    body = exchange_code(api, new_code()).json()
    stored = list(AccessToken.objects.values_list("token_hash", flat=True)) + list(
        RefreshToken.objects.values_list("token_hash", flat=True)
    )
    assert hash_token(body["access_token"]) in stored and hash_token(body["refresh_token"]) in stored
    assert body["access_token"] not in stored and body["refresh_token"] not in stored


@pytest.mark.django_db
def test_it_accepts_a_code_only_once(api):
    code = new_code()
    assert exchange_code(api, code).status_code == 200
    second = exchange_code(api, code)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"


@pytest.mark.django_db
def test_it_refuses_an_expired_code(api):
    code = new_code()
    AuthorizationCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = exchange_code(api, code)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


@pytest.mark.django_db
def test_it_refuses_a_redirect_uri_other_than_the_logins(api):
    response = exchange_code(api, new_code(), redirect_uri="http://127.0.0.1:8000/elsewhere/")
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("client_id", "secret"), [("dexweb-demo-client", "wrong"), ("nobody", "dexweb-demo-secret")]
)
def test_it_answers_invalid_client_for_a_wrong_secret_or_client(api, client_id, secret):
    response = exchange_code(api, new_code(), client_id=client_id, client_secret=secret)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.django_db
def test_it_does_not_let_another_client_use_a_code(api):
    response = exchange_code(api, new_code(), client_id="other-client", client_secret="other-secret")
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({}, "invalid_request"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        (
            {
                "grant_type": "authorization_code",
                "client_id": "dexweb-demo-client",
                "client_secret": "dexweb-demo-secret",
            },
            "invalid_request",
        ),
    ],
)
def test_it_names_the_oauth_error(api, form, error):
    response = api.post(TOKEN_URL, form)
    assert response.status_code == 400
    assert response.json()["error"] == error


@pytest.mark.django_db
def test_it_answers_405_to_a_get_on_the_token_endpoint(api):
    assert api.get(TOKEN_URL).status_code == 405


@pytest.mark.django_db
def test_it_rotates_refresh_tokens_and_refuses_a_reused_one(api, connect, get_data):
    first = connect()
    second = refresh(api, first["refresh_token"])
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["access_token"] != first["access_token"]

    reused = refresh(api, first["refresh_token"])
    assert reused.status_code == 400
    assert reused.json() == {
        "error": "invalid_grant",
        "error_description": reused.json()["error_description"],
    }

    # The rotated one still works, once.
    third = refresh(api, rotated["refresh_token"])
    assert third.status_code == 200
    assert get_data(third.json()["access_token"], "devices").status_code == 200


@pytest.mark.django_db
def test_it_refuses_a_refresh_with_a_wrong_secret(api, connect):
    tokens = connect()
    response = refresh(api, tokens["refresh_token"], client_secret="nope")
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    # The failed attempt did not spend the token.
    assert refresh(api, tokens["refresh_token"]).status_code == 200


@pytest.mark.django_db
def test_it_answers_401_once_the_access_token_expired(connect, get_data):
    tokens = connect("SandboxUser2")
    assert get_data(tokens["access_token"], "devices").status_code == 200
    assert services.expire_access_tokens(sandbox_user_key="SandboxUser2") == 1
    response = get_data(tokens["access_token"], "devices")
    assert response.status_code == 401
    assert response.parsed["error"] == "invalid_token"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_it_expires_only_the_named_users_tokens(connect, get_data):
    first, second = connect("SandboxUser1"), connect("SandboxUser2")
    services.expire_access_tokens(sandbox_user_key="SandboxUser1")
    assert get_data(first["access_token"], "devices").status_code == 401
    assert get_data(second["access_token"], "devices").status_code == 200


@pytest.mark.django_db
def test_it_kills_every_token_when_the_grant_is_revoked(api, connect, get_data):
    tokens = connect("SandboxUser4")
    grant = services.grant_for_access_token(tokens["access_token"])
    services.revoke_grant(grant_id=grant.pk)
    assert get_data(tokens["access_token"], "devices").status_code == 401
    response = refresh(api, tokens["refresh_token"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    # Authorizing again brings the app back with new tokens.
    assert get_data(connect("SandboxUser4")["access_token"], "devices").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["", "Bearer ", "Bearer not-a-token", "Basic abc"])
def test_it_answers_401_with_a_json_error_for_a_bad_token(api, header):
    response = api.get("/emulator/v3/users/self/egvs", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
