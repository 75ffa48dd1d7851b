"""Encryption of secrets at rest: MultiFernet over settings.TOKEN_ENCRYPTION_KEYS.

One key ring for every secret dexweb stores: the Dexcom OAuth tokens (apps.dexcom) and the second
factor's TOTP secrets and recovery-code seeds (apps.accounts.mfa_secrets). It lives here, in the
lowest app, so both may import it.

The first key encrypts; every key decrypts, so a new key can be put in front of the list and the
old ones retired after `manage.py rotate_token_keys` has re-encrypted every stored secret. The keys
are separate from SECRET_KEY so rotating one does not touch the other. A malformed key stops the
process with a message naming the setting rather than failing on the first secret.
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Every Fernet token starts with its version byte 0x80 and a timestamp's leading zero bytes, which
# base64 spells "gAAAAA". A base32 TOTP secret (upper case) or a hex seed (no "g") never does.
FERNET_PREFIX = "gAAAAA"


class DecryptionError(Exception):
    """A stored secret cannot be decrypted with any configured key."""


@lru_cache(maxsize=4)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("TOKEN_ENCRYPTION_KEYS is empty: dexweb cannot store secrets")
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.strip().encode()))
        except (ValueError, TypeError) as error:
            raise ImproperlyConfigured(
                f"TOKEN_ENCRYPTION_KEYS entry {position} is not a Fernet key "
                "(32 url-safe base64-encoded bytes)"
            ) from error
    return MultiFernet(fernets)


def _fernet() -> MultiFernet:
    # Keyed by the current setting so override_settings in tests takes effect.
    return _fernet_for(tuple(settings.TOKEN_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    """Encrypt under the newest key. An empty value stays empty (nothing stored)."""
    if not value:
        return ""
    return _fernet().encrypt(value.encode()).decode()


def decrypt(ciphertext: str) -> str:
    if not ciphertext:
        return ""
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as error:
        raise DecryptionError("no configured key decrypts this secret") from error


def reencrypt(ciphertext: str) -> str:
    """The same secret encrypted under the newest key (what key rotation does to each row)."""
    if not ciphertext:
        return ""
    try:
        return _fernet().rotate(ciphertext.encode()).decode()
    except InvalidToken as error:
        raise DecryptionError("no configured key decrypts this secret") from error


def looks_encrypted(value: str) -> bool:
    """Whether `value` has the shape of a Fernet token (not whether a configured key opens it)."""
    return value.startswith(FERNET_PREFIX)
