"""TOTP secrets and recovery-code seeds are encrypted at rest with TOKEN_ENCRYPTION_KEYS."""

import importlib
import io
import json
from types import SimpleNamespace

import pytest
from allauth.mfa.adapter import get_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from cryptography.fernet import Fernet
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from tests.conftest import DEMO_PASSWORD, TEST_TOTP_SECRET, totp_code

pytestmark = pytest.mark.django_db


def _raw_data(authenticator) -> str:
    """The data column as the database holds it, past every Python layer."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM mfa_authenticator WHERE id = %s", [authenticator.pk])
        value = cursor.fetchone()[0]
    return value if isinstance(value, str) else json.dumps(value)


def _seed(recovery: Authenticator) -> str:
    return get_adapter().decrypt(recovery.data["seed"])


def _signs_in_with_totp(client, user) -> bool:
    client.post(reverse("account_login"), {"login": user.email, "password": DEMO_PASSWORD})
    client.post(reverse("mfa_authenticate"), {"code": totp_code(TEST_TOTP_SECRET)})
    return client.session.get("_auth_user_id") == str(user.pk)


@pytest.fixture
def recovery(clinician):
    return RecoveryCodes.activate(clinician).instance


def test_the_database_holds_no_clear_secret(clinician, recovery):
    totp = Authenticator.objects.get(user=clinician, type="totp")
    assert TEST_TOTP_SECRET not in _raw_data(totp)
    assert _seed(recovery) not in _raw_data(recovery)
    assert len(_seed(recovery)) == 80  # allauth's 40 random bytes in hex, intact after decrypting


def test_a_totp_code_still_signs_the_clinician_in(client, clinician):
    assert _signs_in_with_totp(client, clinician)


def test_the_admin_shows_neither_the_secret_nor_its_ciphertext(admin_client, clinician, recovery):
    totp = Authenticator.objects.get(user=clinician, type="totp")
    for authenticator, secret in ((totp, TEST_TOTP_SECRET), (recovery, _seed(recovery))):
        response = admin_client.get(f"/admin/mfa/authenticator/{authenticator.pk}/change/")
        assert response.status_code == 200
        page = response.content.decode()
        assert clinician.email in page  # the page is about this authenticator...
        assert secret not in page  # ...but shows no secret
        stored = [value for value in authenticator.data.values() if isinstance(value, str)]
        assert stored and not any(value in page for value in stored)


def test_rotation_moves_the_secrets_to_the_newest_key(client, clinician, recovery, settings):
    codes = RecoveryCodes(recovery).get_unused_codes()
    old_key = settings.TOKEN_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.TOKEN_ENCRYPTION_KEYS = [new_key, old_key]
    out = io.StringIO()
    call_command("rotate_token_keys", stdout=out)
    assert "secrets of 2 second factor(s)" in out.getvalue()
    settings.TOKEN_ENCRYPTION_KEYS = [new_key]  # the old key is retired
    assert _signs_in_with_totp(client, clinician)
    recovery.refresh_from_db()
    assert RecoveryCodes(recovery).get_unused_codes() == codes


def test_the_migration_encrypts_clear_secrets_once(client, make_user):
    doctor = make_user("doc@example.com", "clinician", with_totp=False)
    # As allauth stored them before dexweb had an MFA adapter.
    totp = Authenticator.objects.create(user=doctor, type="totp", data={"secret": TEST_TOTP_SECRET})
    seed = "ab" * 40
    recovery = Authenticator.objects.create(
        user=doctor, type="recovery_codes", data={"seed": seed, "used_mask": 0}
    )
    migration = importlib.import_module("apps.accounts.migrations.0002_encrypt_mfa_secrets")
    schema_editor = SimpleNamespace(connection=connection)
    migration.encrypt_clear_secrets(django_apps, schema_editor)
    totp.refresh_from_db()
    recovery.refresh_from_db()
    encrypted = (totp.data, recovery.data)
    assert TEST_TOTP_SECRET not in _raw_data(totp) and seed not in _raw_data(recovery)
    assert _seed(recovery) == seed and recovery.data["used_mask"] == 0
    migration.encrypt_clear_secrets(django_apps, schema_editor)  # again: nothing changes
    totp.refresh_from_db()
    recovery.refresh_from_db()
    assert (totp.data, recovery.data) == encrypted
    assert _signs_in_with_totp(client, doctor)
