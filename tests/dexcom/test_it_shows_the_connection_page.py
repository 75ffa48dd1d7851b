from datetime import timedelta

import pytest
from django.utils import timezone

from apps.dexcom.crypto import encrypt_token
from apps.dexcom.models import DexcomConnection


@pytest.fixture
def connection(patient):
    return DexcomConnection.objects.create(
        user=patient,
        base_url="https://api.dexcom.eu",
        dexcom_user_id="u1",
        access_token_encrypted=encrypt_token("a"),
        refresh_token_encrypted=encrypt_token("r"),
        access_token_expires_at=timezone.now() + timedelta(hours=2),
        last_sync_at=timezone.now() - timedelta(minutes=3),
        backfill_total_days=90,
        backfill_done_days=45,
    )


def test_it_offers_to_connect_when_not_connected(client, patient):
    client.force_login(patient)
    response = client.get("/dexcom/")
    assert response.status_code == 200
    assert b"Connect Dexcom" in response.content
    assert b'action="/accounts/dexcom/login/?process=connect' in response.content


def test_it_shows_status_last_sync_and_backfill_progress(client, connection):
    client.force_login(connection.user)
    page = client.get("/dexcom/").content.decode()
    assert "Connected" in page and "eu" in page
    assert "3\xa0minutes ago" in page or "3 minutes ago" in page
    assert '<progress max="100" value="50">' in page
    assert "Sync now" in page and "Disconnect" in page


def test_it_shows_the_problem_and_a_reconnect_button_when_reauthorization_is_needed(client, connection):
    from apps.dexcom.tokens import mark_needs_reauth

    mark_needs_reauth(connection_id=connection.pk)
    client.force_login(connection.user)
    page = client.get("/dexcom/").content.decode()
    assert "Needs re-authorization" in page
    assert "Dexcom no longer accepts dexweb" in page and "reconnect your Dexcom account" in page
    assert "Reconnect Dexcom" in page and "Sync now" not in page


def test_it_deletes_the_tokens_on_disconnect(client, connection):
    client.force_login(connection.user)
    response = client.post("/dexcom/disconnect/")
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.status == DexcomConnection.Status.DISCONNECTED
    assert connection.access_token_encrypted == "" and connection.refresh_token_encrypted == ""
    assert b"Connect Dexcom" in client.get("/dexcom/").content


def test_it_queues_a_sync_on_sync_now(client, connection):
    from dexweb.celery import app

    client.force_login(connection.user)
    with app.connection_for_read() as broker, broker.SimpleQueue("celery") as queue:
        queue.clear()  # leftovers of earlier runs
        response = client.post("/dexcom/sync/", follow=True)
        assert b"A sync has been queued" in response.content
        # The task is on the real broker: take it off again so no worker ever runs it.
        message = queue.get(timeout=5)
        message.ack()
    assert message.headers["task"] == "sync.sync_connection"
    assert message.headers["argsrepr"] == f"({connection.pk},)"


def test_it_refuses_sync_now_by_get(client, connection):
    client.force_login(connection.user)
    assert client.get("/dexcom/sync/").status_code == 405


def test_it_requires_a_signed_in_user(client):
    response = client.get("/dexcom/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_links_the_connection_from_the_settings_page(client, patient):
    client.force_login(patient)
    page = client.get("/accounts/settings/").content.decode()
    assert "Connect Dexcom" in page
