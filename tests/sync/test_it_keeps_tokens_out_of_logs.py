import logging

import pytest

from apps.dexcom.crypto import decrypt_token
from apps.sync import services
from tests.sync.conftest import SANDBOX_USER

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_logs_no_token_during_a_sync_with_a_refresh(connection, caplog):
    from apps.sandbox.services import expire_access_tokens

    old_access = decrypt_token(connection.access_token_encrypted)
    old_refresh = decrypt_token(connection.refresh_token_encrypted)
    expire_access_tokens(sandbox_user_key=SANDBOX_USER)
    with caplog.at_level(logging.DEBUG):
        services.sync_connection(connection_id=connection.pk)
    connection.refresh_from_db()
    new_access = decrypt_token(connection.access_token_encrypted)
    new_refresh = decrypt_token(connection.refresh_token_encrypted)
    assert new_refresh != old_refresh  # a refresh happened during the run
    logged = caplog.text
    assert "Refreshed the Dexcom access token" in logged
    for secret in (old_access, old_refresh, new_access, new_refresh):
        assert secret not in logged
