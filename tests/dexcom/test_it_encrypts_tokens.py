import io
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.utils import timezone

from apps.dexcom.crypto import TokenDecryptionError, decrypt_token, encrypt_token
from apps.dexcom.models import DexcomConnection

CLEAR_ACCESS = "clear-access-token-5f2b9c"
CLEAR_REFRESH = "clear-refresh-token-77aa01"


@pytest.fixture
def connection(patient):
    return DexcomConnection.objects.create(
        user=patient,
        base_url="https://dexcom.test",
        dexcom_user_id="u1",
        access_token_encrypted=encrypt_token(CLEAR_ACCESS),
        refresh_token_encrypted=encrypt_token(CLEAR_REFRESH),
        access_token_expires_at=timezone.now() + timedelta(hours=2),
    )


def test_it_round_trips_a_token():
    assert decrypt_token(encrypt_token("abc")) == "abc"
    assert encrypt_token("abc") != "abc"


def test_it_keeps_no_clear_token_in_a_database_dump(connection):
    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    dump = out.getvalue()
    assert connection.access_token_encrypted in dump  # the row is there...
    assert CLEAR_ACCESS not in dump and CLEAR_REFRESH not in dump  # ...but only encrypted


def test_it_rotates_tokens_to_the_newest_key(connection, settings):
    old_key = settings.TOKEN_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.TOKEN_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_token_keys", stdout=io.StringIO())
    settings.TOKEN_ENCRYPTION_KEYS = [new_key]  # the old key is retired
    connection.refresh_from_db()
    assert decrypt_token(connection.access_token_encrypted) == CLEAR_ACCESS
    assert decrypt_token(connection.refresh_token_encrypted) == CLEAR_REFRESH


def test_it_refuses_a_token_no_key_decrypts(settings):
    ciphertext = encrypt_token("abc")
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(TokenDecryptionError):
        decrypt_token(ciphertext)


def test_it_fails_loudly_on_a_malformed_key(settings):
    settings.TOKEN_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured, match="TOKEN_ENCRYPTION_KEYS entry 1"):
        encrypt_token("abc")


def test_it_shows_no_token_on_the_admin_page(connection, admin_client):
    response = admin_client.get(f"/admin/dexcom/dexcomconnection/{connection.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert connection.access_token_encrypted not in page
    assert connection.refresh_token_encrypted not in page
    assert CLEAR_ACCESS not in page


def test_it_redacts_tokens_in_log_lines(caplog):
    import logging

    from dexweb.logging_filters import RedactSecretsFilter

    logger = logging.getLogger("tests.redaction")
    logger.addFilter(RedactSecretsFilter())
    with caplog.at_level(logging.INFO, logger="tests.redaction"):
        logger.info("POST body refresh_token=%s&client_secret=s3", CLEAR_REFRESH)
        logger.info("header Authorization: Bearer %s", CLEAR_ACCESS)
    assert CLEAR_REFRESH not in caplog.text and CLEAR_ACCESS not in caplog.text
