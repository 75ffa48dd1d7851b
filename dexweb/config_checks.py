"""Refuse to start production with a missing or unsafe setting, naming the variable to fix."""

import base64
import binascii

from django.core.exceptions import ImproperlyConfigured


def _fail(variable: str, problem: str) -> None:
    raise ImproperlyConfigured(f"{variable}: {problem}")


def check_fernet_keys(keys: list[str], *, variable: str = "TOKEN_ENCRYPTION_KEYS") -> None:
    if not keys:
        _fail(variable, "set at least one Fernet key (comma-separated, newest first)")
    for position, key in enumerate(keys, start=1):
        try:
            raw = base64.urlsafe_b64decode(key.encode())
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            _fail(variable, f"key #{position} is not a Fernet key (32 url-safe base64 bytes)")


def check_production_settings(settings: dict) -> None:
    check_fernet_keys(settings["TOKEN_ENCRYPTION_KEYS"])
    if not settings["PRODUCTION"]:
        return
    if settings["SECRET_KEY"] == settings["DEV_SECRET_KEY"] or len(settings["SECRET_KEY"]) < 40:
        _fail("SECRET_KEY", "set a random secret of at least 40 characters")
    if settings["DEV_TOKEN_ENCRYPTION_KEY"] in settings["TOKEN_ENCRYPTION_KEYS"]:
        _fail("TOKEN_ENCRYPTION_KEYS", "the development key must not be used in production")
    if settings["DEBUG"]:
        _fail("DEBUG", "must be off in production")
    if "postgresql" not in settings["DATABASES"]["default"]["ENGINE"]:
        _fail("DATABASE_URL", "production needs PostgreSQL (postgres://...)")
    if not settings["CELERY_BROKER_URL"].startswith(("redis://", "rediss://")):
        _fail("CELERY_BROKER_URL", "production needs Redis (redis://...)")
    if settings["DEXCOM_CLIENT_ID"] == "dexweb-demo-client":
        _fail("DEXCOM_CLIENT_ID", "set the client id Dexcom issued for this app")
    if settings["DEXCOM_CLIENT_SECRET"] == "dexweb-demo-secret":
        _fail("DEXCOM_CLIENT_SECRET", "set the client secret Dexcom issued for this app")
    if not settings["DEXCOM_REDIRECT_URI"].startswith("https://"):
        _fail("DEXCOM_REDIRECT_URI", "Dexcom requires an https redirect URI in production")
    if not settings["DEXCOM_BASE_URL"].startswith("https://"):
        _fail("DEXCOM_BASE_URL", "use us, eu, jp, sandbox or an https URL in production")
    if settings["ALLOWED_HOSTS"] in ([], ["127.0.0.1", "localhost", "testserver"]):
        _fail("ALLOWED_HOSTS", "list the host names this site is served under")
