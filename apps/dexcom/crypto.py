"""Encryption of Dexcom tokens at rest, with the key ring of apps.accounts.encryption.

The names below predate the shared key ring; they stay so callers need not change.
"""

from apps.accounts.encryption import DecryptionError as TokenDecryptionError
from apps.accounts.encryption import decrypt as decrypt_token
from apps.accounts.encryption import encrypt as encrypt_token
from apps.accounts.encryption import reencrypt as reencrypt_token

__all__ = ["TokenDecryptionError", "decrypt_token", "encrypt_token", "reencrypt_token"]
