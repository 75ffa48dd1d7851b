"""The second factor's secrets, encrypted at rest with the key ring of apps.accounts.encryption.

allauth keeps them in Authenticator.data and passes each through its MFA adapter's encrypt() and
decrypt() (apps.accounts.adapters.MFAAdapter). Which keys of `data` hold a secret, per type:
TOTP the base32 secret, recovery codes the seed they are derived from and, for codes imported
from another system, the codes themselves.
"""

from django.db import transaction

from apps.accounts import encryption

SECRET_STRING_KEYS = {"totp": ("secret",), "recovery_codes": ("seed",)}
SECRET_LIST_KEYS = {"recovery_codes": ("migrated_codes",)}


def _map_secrets(data: dict, authenticator_type: str, transform) -> dict:
    """A copy of `data` with `transform` applied to each secret it holds."""
    data = dict(data)
    for key in SECRET_STRING_KEYS.get(authenticator_type, ()):
        if data.get(key):
            data[key] = transform(data[key])
    for key in SECRET_LIST_KEYS.get(authenticator_type, ()):
        if data.get(key):
            data[key] = [transform(value) for value in data[key]]
    return data


def _encrypt_if_clear(value: str) -> str:
    return value if encryption.looks_encrypted(value) else encryption.encrypt(value)


def encrypted_data(data: dict, authenticator_type: str) -> dict:
    """`data` with every clear secret encrypted; already encrypted ones are left alone."""
    return _map_secrets(data, authenticator_type, _encrypt_if_clear)


def reencrypted_data(data: dict, authenticator_type: str) -> dict:
    """`data` with every secret encrypted under the newest key (raises DecryptionError)."""
    return _map_secrets(data, authenticator_type, encryption.reencrypt)


def mfa_secrets_rotate() -> int:
    """Re-encrypt every authenticator's secrets under the newest key; returns how many rows."""
    from allauth.mfa.models import Authenticator

    rotated = 0
    for pk in Authenticator.objects.values_list("pk", flat=True):
        with transaction.atomic():
            # Locked like allauth's own recovery-code check, so a code being marked used
            # concurrently is not overwritten with the old mask.
            authenticator = Authenticator.objects.select_for_update().get(pk=pk)
            new_data = reencrypted_data(authenticator.data, authenticator.type)
            if new_data != authenticator.data:
                authenticator.data = new_data
                authenticator.save(update_fields=["data"])
                rotated += 1
    return rotated
