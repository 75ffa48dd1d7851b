import logging

import pytest

from apps.dexcom.crypto import decrypt_token
from apps.sync import services

pytestmark = pytest.mark.django_db


def test_it_logs_no_token_during_a_sync_with_a_refresh(api, api_connection, caplog):
    connection = api_connection
    old_access = decrypt_token(connection.access_token_encrypted)
    old_refresh = decrypt_token(connection.refresh_token_encrypted)
    api.expire_access_tokens()
    with caplog.at_level(logging.DEBUG):
        services.sync_connection(connection_id=connection.pk, api=api)
    connection.refresh_from_db()
    new_access = decrypt_token(connection.access_token_encrypted)
    new_refresh = decrypt_token(connection.refresh_token_encrypted)
    assert new_refresh != old_refresh and api.refreshes_spent == 1  # refreshed during the run
    logged = caplog.text
    assert "Refreshed the Dexcom access token" in logged
    for secret in (old_access, old_refresh, new_access, new_refresh):
        assert secret not in logged
