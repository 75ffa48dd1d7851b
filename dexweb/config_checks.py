"""Refuse to start production with a missing or unsafe setting, naming the variable to fix.

settings.py calls check_production_settings() last, so every process (web, worker, beat, manage.py)
stops at import with ImproperlyConfigured("VARIABLE: what is wrong") instead of running on a
development default.
"""

import base64
import binascii
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

from dexweb.dexcom_regions import EMULATOR_PATH

# Production has no safe default for these: each must be set in the environment (or .env).
# docker-compose.yml passes every one of them (tests/test_it_compose.py checks).
PRODUCTION_REQUIRED_VARIABLES = (
    "SECRET_KEY",
    "TOKEN_ENCRYPTION_KEYS",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "ALLOWED_HOSTS",
    "DEXWEB_PUBLIC_URL",
    "DEXCOM_BASE_URL",
    "DEXCOM_CLIENT_ID",
    "DEXCOM_CLIENT_SECRET",
)
DEMO_CLIENT_ID = "dexweb-demo-client"
DEMO_CLIENT_SECRET = "dexweb-demo-secret"


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


def check_required_variables(environ: Mapping[str, str]) -> None:
    missing = [name for name in PRODUCTION_REQUIRED_VARIABLES if not environ.get(name, "").strip()]
    if missing:
        _fail(", ".join(missing), "required when DEXWEB_ENV=production, but not set")


def check_production_settings(settings: dict, *, environ: Mapping[str, str] | None = None) -> None:
    check_fernet_keys(settings["TOKEN_ENCRYPTION_KEYS"])
    if not settings["PRODUCTION"]:
        return
    if environ is not None:
        check_required_variables(environ)
    _check_secrets(settings)
    _check_services(settings)
    _check_site(settings)  # before Dexcom: the redirect URI defaults to the public URL
    _check_dexcom(settings)


def _check_secrets(settings: dict) -> None:
    if settings["SECRET_KEY"] == settings["DEV_SECRET_KEY"] or len(settings["SECRET_KEY"]) < 50:
        _fail("SECRET_KEY", "set a random secret of at least 50 characters")
    if settings["DEV_TOKEN_ENCRYPTION_KEY"] in settings["TOKEN_ENCRYPTION_KEYS"]:
        _fail("TOKEN_ENCRYPTION_KEYS", "the development key must not be used in production")
    if settings["DEBUG"]:
        _fail("DEBUG", "must be off in production")


def _check_services(settings: dict) -> None:
    if "postgresql" not in settings["DATABASES"]["default"]["ENGINE"]:
        _fail("DATABASE_URL", "production needs PostgreSQL (postgres://...)")
    if not settings["CELERY_BROKER_URL"].startswith(("redis://", "rediss://")):
        _fail("CELERY_BROKER_URL", "production needs Redis (redis://...)")


def _check_dexcom(settings: dict) -> None:
    if settings["DEXCOM_CLIENT_ID"] == DEMO_CLIENT_ID:
        _fail("DEXCOM_CLIENT_ID", "set the client id Dexcom issued for this app")
    if settings["DEXCOM_CLIENT_SECRET"] == DEMO_CLIENT_SECRET:
        _fail("DEXCOM_CLIENT_SECRET", "set the client secret Dexcom issued for this app")
    if not settings["DEXCOM_REDIRECT_URI"].startswith("https://"):
        _fail("DEXCOM_REDIRECT_URI", "Dexcom requires an https redirect URI in production")
    emulator_url = settings["DEXWEB_PUBLIC_URL"] + EMULATOR_PATH
    if settings["DEXCOM_BASE_URL"] == emulator_url and not settings["EMULATOR_ENABLED"]:
        _fail("DEXCOM_BASE_URL", "points at the emulator, which production does not serve")
    if not settings["DEXCOM_BASE_URL"].startswith("https://"):
        _fail("DEXCOM_BASE_URL", "use us, eu, jp, sandbox or an https URL in production")


def _check_site(settings: dict) -> None:
    if settings["ALLOWED_HOSTS"] in ([], ["127.0.0.1", "localhost", "testserver"]):
        _fail("ALLOWED_HOSTS", "list the host names this site is served under")
    if not settings["DEXWEB_PUBLIC_URL"].startswith("https://"):
        _fail("DEXWEB_PUBLIC_URL", "the site's public address must be https:// in production")
