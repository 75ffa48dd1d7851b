"""The full OAuth flow through allauth's views and the emulator's consent page.

The browser part (our login view, the emulator's consent form, the callback) runs in the Django
test client; the token exchange and the userId lookup are real HTTP calls to the live server.
"""

from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client

from apps.dexcom.crypto import decrypt_token
from apps.dexcom.models import DexcomConnection
from tests.sync.conftest import emulator  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _to_consent(client: Client, process: str):
    response = client.post(f"/accounts/dexcom/login/?process={process}")
    assert response.status_code == 302
    location = response["Location"]
    query = parse_qs(urlsplit(location).query)
    assert urlsplit(location).path == "/emulator/v3/oauth2/login"
    assert query["scope"] == ["offline_access"] and query["response_type"] == ["code"]
    assert query["state"][0]
    consent = client.get(_path(location))
    assert consent.status_code == 200 and b"Authorize" in consent.content
    return query


def _decide(client: Client, query: dict, decision: str, sandbox_user="SandboxUser2"):
    form = {key: values[0] for key, values in query.items()}
    response = client.post(
        "/emulator/v3/oauth2/login", {**form, "decision": decision, "sandbox_user": sandbox_user}
    )
    assert response.status_code == 302
    return response["Location"]


def test_it_signs_up_a_new_user_with_dexcom(emulator):  # noqa: F811
    client = Client()
    query = _to_consent(client, "login")
    callback = _decide(client, query, "authorize")
    response = client.get(_path(callback))
    # Dexcom tells us no email address: allauth asks for one.
    assert response.status_code == 302 and response["Location"] == "/accounts/3rdparty/signup/"
    response = client.post("/accounts/3rdparty/signup/", {"email": "newpatient@example.com"})
    assert response.status_code == 302
    connection = DexcomConnection.objects.get(user__email="newpatient@example.com")
    account = SocialAccount.objects.get(provider="dexcom")
    assert account.user_id == connection.user_id
    assert connection.dexcom_user_id == account.uid and len(account.uid) == 64
    assert connection.status == DexcomConnection.Status.ACTIVE
    assert decrypt_token(connection.refresh_token_encrypted)
    assert connection.backfill_total_days == 90
    # The session that carried the pending sign-up never held a clear token.
    from django.contrib.sessions.models import Session

    for session in Session.objects.all():
        data = str(session.get_decoded())
        assert decrypt_token(connection.access_token_encrypted) not in data


def test_it_connects_dexcom_for_a_signed_in_user_and_logs_in_with_it_later(emulator, patient):  # noqa: F811
    client = Client()
    client.force_login(patient)
    query = _to_consent(client, "connect")
    response = client.get(_path(_decide(client, query, "authorize")))
    assert response.status_code == 302
    connection = DexcomConnection.objects.get(user=patient)
    assert connection.status == DexcomConnection.Status.ACTIVE and connection.has_tokens

    # Later the connection needs re-authorization; "Log in with Dexcom" fixes it.
    DexcomConnection.objects.filter(pk=connection.pk).update(
        status=DexcomConnection.Status.NEEDS_REAUTH, refresh_token_encrypted="", access_token_encrypted=""
    )
    other = Client()
    query = _to_consent(other, "login")
    response = other.get(_path(_decide(other, query, "authorize")))
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.status == DexcomConnection.Status.ACTIVE and connection.has_tokens
    assert int(other.session["_auth_user_id"]) == patient.pk


def test_it_shows_a_clear_page_when_consent_is_denied(emulator):  # noqa: F811
    client = Client()
    query = _to_consent(client, "login")
    response = client.get(_path(_decide(client, query, "deny")), follow=True)
    assert response.status_code == 200
    assert b"did not allow dexweb" in response.content
    assert not DexcomConnection.objects.exists()


def test_it_refuses_a_callback_with_a_forged_state(emulator):  # noqa: F811
    client = Client()
    query = _to_consent(client, "login")
    callback = _decide(client, query, "authorize")
    forged = callback.replace(f"state={query['state'][0]}", "state=forged")
    response = client.get(_path(forged))
    assert response.status_code == 401
    assert b"could not connect your Dexcom account" in response.content
    assert not DexcomConnection.objects.exists()


def test_it_shows_a_clear_page_when_dexcom_reports_an_error(emulator):  # noqa: F811
    client = Client()
    query = _to_consent(client, "login")
    response = client.get(f"/accounts/dexcom/login/callback/?error=server_error&state={query['state'][0]}")
    assert response.status_code == 401
    assert b"could not connect your Dexcom account" in response.content


def test_it_shows_a_clear_page_when_the_code_is_refused(emulator):  # noqa: F811
    client = Client()
    query = _to_consent(client, "login")
    response = client.get(f"/accounts/dexcom/login/callback/?code=not-a-code&state={query['state'][0]}")
    assert response.status_code == 401
    assert b"could not connect your Dexcom account" in response.content


def test_it_offers_dexcom_on_the_sign_in_and_sign_up_pages(client):
    for page in ("/accounts/login/", "/accounts/signup/"):
        content = client.get(page).content.decode()
        assert "/accounts/dexcom/login/" in content and "Dexcom" in content


def _connection_row(user) -> dict:
    return dict(DexcomConnection.objects.filter(user=user).values().get())


def _owned_by(user) -> dict:
    """Everything of `user` that a connect of their Dexcom account could touch."""
    from apps.sync.models import SyncCursor

    return {
        "connection": _connection_row(user),
        "social_accounts": list(SocialAccount.objects.filter(user=user).values()),
        "cursors": list(SyncCursor.objects.filter(patient=user).order_by("record_type").values()),
    }


def test_it_refuses_a_dexcom_account_of_another_user_and_changes_nothing(emulator, make_user, monkeypatch):  # noqa: F811
    from apps.sync import tasks

    owner, intruder = make_user("owner@example.com"), make_user("intruder@example.com")
    client = Client()
    client.force_login(owner)
    client.get(_path(_decide(client, _to_consent(client, "connect"), "authorize")))
    # The owner's access was revoked: syncing stopped until they re-authorize.
    DexcomConnection.objects.filter(user=owner).update(
        status=DexcomConnection.Status.NEEDS_REAUTH,
        access_token_encrypted="",
        last_error="Dexcom refused our access token: reconnect your Dexcom account.",
    )
    before = _owned_by(owner)
    queued = []
    monkeypatch.setattr(tasks.sync_connection_task, "delay", lambda *a, **k: queued.append(a))
    monkeypatch.setattr(tasks.backfill_connection_task, "delay", lambda *a, **k: queued.append(a))

    other = Client()
    other.force_login(intruder)
    response = other.get(_path(_decide(other, _to_consent(other, "connect"), "authorize")), follow=True)

    assert response.status_code == 200
    assert b"already connected to a different" in response.content
    assert _owned_by(owner) == before
    assert not DexcomConnection.objects.filter(user=intruder).exists()
    assert not SocialAccount.objects.filter(user=intruder).exists()
    assert queued == []


def test_it_refuses_the_same_through_the_code_exchange_service(emulator, make_user):  # noqa: F811
    from django.conf import settings

    from apps.dexcom.services import (
        DexcomAccountOfAnotherUser,
        connect_with_authorization_code,
    )
    from apps.sandbox.services import authorization_code_for

    def code():
        return authorization_code_for(
            sandbox_user_key="SandboxUser2",
            client_id=settings.DEXCOM_CLIENT_ID,
            redirect_uri=settings.DEXCOM_REDIRECT_URI,
        )

    owner, intruder = make_user("owner@example.com"), make_user("intruder@example.com")
    connect_with_authorization_code(user=owner, code=code(), start_sync=False)
    before = _owned_by(owner)
    with pytest.raises(DexcomAccountOfAnotherUser):
        connect_with_authorization_code(user=intruder, code=code(), start_sync=False)
    assert _owned_by(owner) == before
    assert not DexcomConnection.objects.filter(user=intruder).exists()
    connect_with_authorization_code(user=owner, code=code(), start_sync=False)  # the owner may


def test_the_update_signal_never_stores_tokens_on_the_owner_for_someone_else(make_user):
    from allauth.socialaccount.models import SocialLogin, SocialToken
    from allauth.socialaccount.signals import social_account_updated
    from django.test import RequestFactory

    from apps.dexcom.crypto import encrypt_token

    owner, intruder = make_user("owner@example.com"), make_user("intruder@example.com")
    account = SocialAccount.objects.create(user=owner, provider="dexcom", uid="dexcom-user-x")
    DexcomConnection.objects.create(
        user=owner,
        dexcom_user_id="dexcom-user-x",
        base_url="http://x",
        status=DexcomConnection.Status.NEEDS_REAUTH,
    )
    before = _owned_by(owner)
    request = RequestFactory().get("/accounts/dexcom/login/callback/")
    request.user = intruder
    token = SocialToken(account=account, token=encrypt_token("access"), token_secret=encrypt_token("refresh"))
    sociallogin = SocialLogin(user=owner, account=account, token=token)
    social_account_updated.send(sender=SocialLogin, request=request, sociallogin=sociallogin)
    assert _owned_by(owner) == before
