"""Refuse to start production with a missing or unsafe setting, naming the variable to fix.

settings.py calls check_production_settings() last, so every process (web, worker, beat, manage.py)
stops at import with ImproperlyConfigured("VARIABLE: what is wrong") instead of running on a
development default.
"""

import base64
import binascii
import math
from collections import Counter
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
    "CACHE_URL",
    "ALLOWED_HOSTS",
    "DEXWEB_PUBLIC_URL",
    "DEXCOM_BASE_URL",
    "DEXCOM_CLIENT_ID",
    "DEXCOM_CLIENT_SECRET",
)
# A random 50-character key from Django's alphabet carries ~250 bits by the estimate below; 50 × "a"
# carries none. 128 bits is the usual floor for a secret that signs sessions.
SECRET_KEY_MIN_BITS = 128
SECRET_KEY_MIN_DISTINCT_CHARACTERS = 10
# Every web and worker container must see the same rate limits and used TOTP codes: Redis, which
# production runs anyway. (A file or in-memory cache is per machine or per process.)
SHARED_CACHE_BACKENDS = ("django.core.cache.backends.redis.RedisCache",)
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
    _check_https(settings)
    _check_accounts(settings)
    _check_dexcom(settings)


def estimated_entropy_bits(secret: str) -> float:
    """Shannon entropy of the secret's own character frequencies, times its length.

    An estimate, not a proof of randomness: it catches repeated or few-letter keys (50 × "a" is 0
    bits, "abab..." 1 bit a character), which is what a hand-typed placeholder looks like.
    """
    if not secret:
        return 0.0
    counts = Counter(secret)
    per_character = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    return per_character * len(secret)


def _check_secrets(settings: dict) -> None:
    if settings["SECRET_KEY"] == settings["DEV_SECRET_KEY"] or len(settings["SECRET_KEY"]) < 50:
        _fail("SECRET_KEY", "set a random secret of at least 50 characters")
    secret = settings["SECRET_KEY"]
    if (
        len(set(secret)) < SECRET_KEY_MIN_DISTINCT_CHARACTERS
        or estimated_entropy_bits(secret) < SECRET_KEY_MIN_BITS
    ):
        _fail("SECRET_KEY", "too predictable (few distinct characters); generate a random one")
    if settings["DEV_TOKEN_ENCRYPTION_KEY"] in settings["TOKEN_ENCRYPTION_KEYS"]:
        _fail("TOKEN_ENCRYPTION_KEYS", "the development key must not be used in production")
    if settings["DEBUG"]:
        _fail("DEBUG", "must be off in production")


def _check_services(settings: dict) -> None:
    if "postgresql" not in settings["DATABASES"]["default"]["ENGINE"]:
        _fail("DATABASE_URL", "production needs PostgreSQL (postgres://...)")
    if not settings["CELERY_BROKER_URL"].startswith(("redis://", "rediss://")):
        _fail("CELERY_BROKER_URL", "production needs Redis (redis://...)")
    if settings["CACHES"]["default"]["BACKEND"] not in SHARED_CACHE_BACKENDS:
        _fail("CACHE_URL", "production needs a cache every process shares (redis://...)")


def _check_dexcom(settings: dict) -> None:
    if settings["DEXCOM_CLIENT_ID"] == DEMO_CLIENT_ID:
        _fail("DEXCOM_CLIENT_ID", "set the client id Dexcom issued for this app")
    if settings["DEXCOM_CLIENT_SECRET"] == DEMO_CLIENT_SECRET:
        _fail("DEXCOM_CLIENT_SECRET", "set the client secret Dexcom issued for this app")
    if not settings["DEXCOM_REDIRECT_URI"].startswith("https://"):
        _fail("DEXCOM_REDIRECT_URI", "Dexcom requires an https redirect URI in production")
    if settings["EMULATOR_ENABLED"]:
        _fail("EMULATOR_ENABLED", "the Dexcom emulator (fake OAuth and data) must be off in production")
    emulator_url = settings["DEXWEB_PUBLIC_URL"] + EMULATOR_PATH
    if settings["DEXCOM_BASE_URL"] == emulator_url:
        _fail("DEXCOM_BASE_URL", "points at the emulator, which production does not serve")
    if not settings["DEXCOM_BASE_URL"].startswith("https://"):
        _fail("DEXCOM_BASE_URL", "use us, eu, jp, sandbox or an https URL in production")


def _check_site(settings: dict) -> None:
    if "*" in settings["ALLOWED_HOSTS"]:
        _fail("ALLOWED_HOSTS", "'*' accepts any Host header; list the site's host names")
    if settings["ALLOWED_HOSTS"] in ([], ["127.0.0.1", "localhost", "testserver"]):
        _fail("ALLOWED_HOSTS", "list the host names this site is served under")
    if not settings["DEXWEB_PUBLIC_URL"].startswith("https://"):
        _fail("DEXWEB_PUBLIC_URL", "the site's public address must be https:// in production")


def _check_https(settings: dict) -> None:
    # A proxy that redirects to https and sends HSTS itself may take over both jobs, but only
    # when the operator says so: otherwise switching them off is a mistake.
    if settings["HTTPS_ENFORCED_BY_PROXY"]:
        return
    if not settings["SECURE_SSL_REDIRECT"]:
        _fail(
            "SECURE_SSL_REDIRECT",
            "must be on in production (or set HTTPS_ENFORCED_BY_PROXY=true if the proxy redirects)",
        )
    if settings["SECURE_HSTS_SECONDS"] <= 0:
        _fail(
            "SECURE_HSTS_SECONDS",
            "must be > 0 in production (or set HTTPS_ENFORCED_BY_PROXY=true if the proxy sends HSTS)",
        )


def _check_accounts(settings: dict) -> None:
    if not settings["AXES_ENABLED"]:
        _fail("AXES_ENABLED", "sign-in lockout must be on in production")
    if settings["ACCOUNT_EMAIL_VERIFICATION"] == "none":
        _fail(
            "ACCOUNT_EMAIL_VERIFICATION",
            "'none' lets anyone sign up under someone else's address; use mandatory",
        )
