"""dexweb settings.

Every setting reads the environment (django-environ) and falls back to an embedded default that
needs no server: a SQLite file under var/ and a Celery broker on SQLAlchemy/SQLite. With
DEXWEB_ENV=production the defaults are refused and a misconfigured variable stops the start with a
message naming it (see dexweb/config_checks.py).
"""

import os
from datetime import timedelta
from pathlib import Path

import environ

from apps.dashboard.beat import BEAT_SCHEDULE as DASHBOARD_BEAT_SCHEDULE
from apps.sync.beat import BEAT_SCHEDULE as SYNC_BEAT_SCHEDULE
from dexweb import config_checks
from dexweb.dexcom_regions import resolve_dexcom_base_url

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A .env file fills in variables the environment leaves unset; DEXWEB_DOTENV points elsewhere
# (tests point it at nothing so a developer's .env cannot change what they check).
DOTENV_FILE = Path(env.str("DEXWEB_DOTENV", default=str(BASE_DIR / ".env")))
if DOTENV_FILE.is_file():
    environ.Env.read_env(DOTENV_FILE)

# Made when Django starts (dexweb/local_dirs.py, from AccountsConfig.ready), not here.
VAR_DIR = Path(env.str("DEXWEB_VAR_DIR", default=str(BASE_DIR / "var")))

DEXWEB_ENV = env.str("DEXWEB_ENV", default="development")
PRODUCTION = DEXWEB_ENV == "production"

# Development-only defaults. config_checks refuses them in production.
DEV_SECRET_KEY = "dev-insecure-dexweb-secret-key-do-not-use-in-production-0123456789"
DEV_TOKEN_ENCRYPTION_KEY = "ZGV4d2ViLWRldi1vbmx5LWZlcm5ldC1rZXktMDAwMDA="

SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.mfa",
    "axes",
    "django_celery_beat",
    "apps.accounts",
    "apps.dexcom",
    "apps.sync",
    "apps.glucose",
    "apps.dashboard",
    "apps.sharing",
    "apps.demo",
]

MIDDLEWARE = [
    "dexweb.health.HealthCheckMiddleware",  # first: answers before host and HTTPS checks
    "dexweb.outages.DatabaseOutageMiddleware",  # a database error in a view: 503, not 500
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Gzip for pages, never for those that show secrets next to user input (dexweb/compression.py).
    "dexweb.compression.SelectiveGZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "axes.middleware.AxesMiddleware",
    # Clinicians/staff: TOTP before any page, idle session timeout (apps/accounts/middleware.py).
    "apps.accounts.middleware.ClinicianSecurityMiddleware",
    # Audit the patient data a response serves (2xx only; apps/sharing/access.py).
    "apps.sharing.access.AuditServedViewsMiddleware",
]

ROOT_URLCONF = "dexweb.urls"
WSGI_APPLICATION = "dexweb.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'dexweb.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: WAL lets readers run beside one writer, IMMEDIATE
    # transactions take the write lock up front so two writers queue instead of deadlocking.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # A file, not memory, so a real Celery worker process started by a test sees the test data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-dexweb.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts (django-allauth) ------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SITE_ID = 1
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_ADAPTER = "apps.accounts.adapters.AccountAdapter"
ACCOUNT_SIGNUP_FORM_CLASS = "apps.accounts.forms.SignupTimezoneForm"  # time zone from the browser
SOCIALACCOUNT_ADAPTER = "apps.accounts.adapters.SocialAccountAdapter"
# allauth would keep OAuth tokens in clear; apps.dexcom keeps its own encrypted copy instead.
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_PROVIDERS = {}  # "dexcom" is added below, once the Dexcom settings are read
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "dexweb"
# A code of the step before or after the server's is accepted too (RFC 6238 section 5.2): a
# phone whose clock runs some seconds off, or a code typed as it changes, still signs in. Each
# code is still taken only once (allauth remembers used codes for the whole window).
MFA_TOTP_TOLERANCE = 1
# The activation secret survives stray requests to the set-up page (apps/accounts/mfa.py).
MFA_FORMS = {"activate_totp": "apps.accounts.mfa.ActivateTOTPForm"}
# TOTP secrets and recovery-code seeds, encrypted with TOKEN_ENCRYPTION_KEYS (accounts/mfa_secrets).
MFA_ADAPTER = "apps.accounts.adapters.MFAAdapter"

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "login"
# allauth authenticates with {"email": ...}; this finds the address wherever it is.
AXES_USERNAME_CALLABLE = "apps.accounts.lockout.login_username"
AXES_LOCKOUT_TEMPLATE = "account/lockout.html"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)

# How many reverse proxies we run in front of the web server, each appending the address it saw to
# X-Forwarded-For. 0 (the default): REMOTE_ADDR is the client and X-Forwarded-For is ignored, since
# anyone can send it. One helper reads the client address for lockout, rate limits and the audit
# trail (apps/accounts/client_address.py).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "apps.accounts.client_address.client_ip"

# Rate limits (allauth's) and used TOTP codes must be seen by every process alike. The default, a
# directory under VAR_DIR, is shared by the processes of one machine (`make demo`: web, worker,
# beat) and survives restarts without a server or a table; production needs Redis
# (config_checks refuses caches that other containers cannot see).
CACHES = {"default": env.cache_url("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="dexweb <noreply@dexweb.local>")
if PRODUCTION:
    EMAIL_CONFIG = env.email_url("EMAIL_URL", default="smtp://localhost:25")
    vars().update(EMAIL_CONFIG)

# --- Internationalisation and time ---------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"  # storage and server clocks are UTC; pages use each patient's own zone
USE_I18N = True
USE_TZ = True

# --- Static files --------------------------------------------------------------------------------
STATIC_URL = "/static/"
# static/vendor/plotly.min.js is Plotly's partial "basic" bundle, vendored (static/vendor/README.md):
# no CDN (CSP allows scripts only from 'self', the demo works offline).
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
STATIC_ROOT = VAR_DIR / "staticfiles"
# Hashed, compressed names in production. The image runs collectstatic at build time, where the
# production checks cannot pass, so it asks for the manifest with STATIC_MANIFEST=true instead.
STATIC_MANIFEST = env.bool("STATIC_MANIFEST", default=PRODUCTION)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"

# --- Triage list ---------------------------------------------------------------------------------
# How long the order of a clinician's list (which patients make a page, the totals) is kept
# before one query over every patient computes it again; the rows shown are read on every look
# (apps/sharing/selectors.py). 0: computed on every look.
TRIAGE_ORDER_CACHE_SECONDS = env.int("TRIAGE_ORDER_CACHE_SECONDS", default=20)

# --- Dexcom -------------------------------------------------------------------------------------
# DEXCOM_BASE_URL: "emulator" (default, the built-in emulator served by this site), one of the
# region names us / eu / jp / sandbox, or any URL.
DEXWEB_PUBLIC_URL = env.str("DEXWEB_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")
DEXCOM_BASE_URL = resolve_dexcom_base_url(
    env.str("DEXCOM_BASE_URL", default="emulator"), public_url=DEXWEB_PUBLIC_URL
)
DEXCOM_CLIENT_ID = env.str("DEXCOM_CLIENT_ID", default="dexweb-demo-client")
DEXCOM_CLIENT_SECRET = env.str("DEXCOM_CLIENT_SECRET", default="dexweb-demo-secret")
DEXCOM_REDIRECT_URI = env.str(
    "DEXCOM_REDIRECT_URI", default=f"{DEXWEB_PUBLIC_URL}/accounts/dexcom/login/callback/"
)
DEXCOM_HTTP_TIMEOUT = env.float("DEXCOM_HTTP_TIMEOUT", default=30.0)
# After a token refresh whose answer was lost, wait this long before presenting the (maybe spent)
# refresh token again (apps/dexcom/tokens.py).
DEXCOM_REFRESH_RETRY_PAUSE_SECONDS = env.float("DEXCOM_REFRESH_RETRY_PAUSE_SECONDS", default=30.0)
# The app-wide Dexcom budget (Dexcom allows 60,000 calls per app per hour).
DEXCOM_RATE_LIMIT_PER_HOUR = env.int("DEXCOM_RATE_LIMIT_PER_HOUR", default=60000)
TOKEN_ENCRYPTION_KEYS = env.list("TOKEN_ENCRYPTION_KEYS", default=[DEV_TOKEN_ENCRYPTION_KEY])
# The allauth provider in apps.dexcom: credentials from the settings above, no SocialApp row.
SOCIALACCOUNT_PROVIDERS["dexcom"] = {
    "APPS": [{"client_id": DEXCOM_CLIENT_ID, "secret": DEXCOM_CLIENT_SECRET, "key": ""}],
    "SCOPE": ["offline_access"],
}

# --- Sync ---------------------------------------------------------------------------------------
SYNC_INTERVAL_SECONDS = env.int("SYNC_INTERVAL_SECONDS", default=300)
SYNC_BACKFILL_DAYS = env.int("SYNC_BACKFILL_DAYS", default=90)
# The budget-aware scheduler (apps/sync/scheduler.py): how fresh watched and other patients are
# kept, and the share of each minute's Dexcom calls that new patients' backfills may take.
SYNC_WATCHED_EVERY_SECONDS = env.int("SYNC_WATCHED_EVERY_SECONDS", default=8 * 60)
SYNC_UNWATCHED_EVERY_SECONDS = env.int("SYNC_UNWATCHED_EVERY_SECONDS", default=50 * 60)
SYNC_BACKFILL_SHARE = env.float("SYNC_BACKFILL_SHARE", default=0.2)
# Short: a live run renews it before every Dexcom call (apps/sync/lease.py), a killed one does not.
SYNC_LEASE_SECONDS = env.int("SYNC_LEASE_SECONDS", default=90)

# --- Emulator -----------------------------------------------------------------------------------
# Clients the built-in emulator accepts: the app's own credentials, so the default setup works.
EMULATOR_ENABLED = env.bool("EMULATOR_ENABLED", default=not PRODUCTION)
if EMULATOR_ENABLED:
    # Installed (models, admin, commands) and routed (dexweb/urls.py) only when switched on;
    # production refuses it (config_checks), so there it has no tables, pages or commands.
    INSTALLED_APPS.insert(INSTALLED_APPS.index("apps.dexcom"), "apps.sandbox")
EMULATOR_CLIENTS = {DEXCOM_CLIENT_ID: DEXCOM_CLIENT_SECRET}
# Dexcom publishes data with a delay (1 h in the US, 3 h elsewhere); the emulator does the same.
EMULATOR_DATA_DELAY_MINUTES = env.int("EMULATOR_DATA_DELAY_MINUTES", default=60)

# --- Celery -------------------------------------------------------------------------------------
# --- Clarity import (apps/glucose/clarity) ------------------------------------------------------
# Uploads larger than this are refused from their Content-Length, before the body is read. Smaller
# ones are spooled to a temporary file beyond FILE_UPLOAD_MAX_MEMORY_SIZE (Django's default,
# 2.5 MB), so the web process never holds a file in memory; the Celery worker streams it.
CLARITY_UPLOAD_MAX_BYTES = env.int("CLARITY_UPLOAD_MAX_BYTES", default=50 * 1024 * 1024)
CLARITY_IMPORT_MAX_ROWS = env.int("CLARITY_IMPORT_MAX_ROWS", default=300_000)  # ~2.8 years

CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL", default=f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the message for another
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=1800)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=1500)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# apps/sync/beat.py: queue due syncs every minute; apps/dashboard/beat.py: the weekly digests
CELERY_BEAT_SCHEDULE = {**SYNC_BEAT_SCHEDULE, **DASHBOARD_BEAT_SCHEDULE}
CELERY_TIMEZONE = "UTC"

# --- Security -----------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
# Sessions stay in the database, read through the cache (shared by every process, as CACHE_URL
# requires): a page view then asks the database nothing about its session.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# Clinicians and admins are logged out after this much inactivity (patients keep SESSION_COOKIE_AGE).
CLINICIAN_SESSION_IDLE_SECONDS = env.int("CLINICIAN_SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
# X-Forwarded-Proto says "https" only when a trusted proxy wrote it; without one any client could.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if PRODUCTION and TRUSTED_PROXY_COUNT > 0 else None
)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
# Set when the proxy in front redirects http to https and sends HSTS itself: only then may
# production run with SECURE_SSL_REDIRECT off or SECURE_HSTS_SECONDS=0 (config_checks).
HTTPS_ENFORCED_BY_PROXY = env.bool("HTTPS_ENFORCED_BY_PROXY", default=False)
# `check --deploy` would then warn about a job the proxy does.
SILENCED_SYSTEM_CHECKS = []
if HTTPS_ENFORCED_BY_PROXY and not SECURE_SSL_REDIRECT:
    SILENCED_SYSTEM_CHECKS.append("security.W008")  # the proxy redirects to https
if HTTPS_ENFORCED_BY_PROXY and SECURE_HSTS_SECONDS <= 0:
    SILENCED_SYSTEM_CHECKS.append("security.W004")  # the proxy sends HSTS
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Covering indexes (INCLUDE) are a PostgreSQL speed-up; SQLite builds the same indexes
    # without the extra columns, which is all the demo needs.
    SILENCED_SYSTEM_CHECKS.append("models.W040")
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # Plotly sets inline styles on the SVG it draws.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"] + ([] if PRODUCTION else ["http://127.0.0.1:*", "http://localhost:*"]),
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

DEFAULT_EXCEPTION_REPORTER = "dexweb.error_reports.RedactingExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "dexweb.error_reports.RedactingReporterFilter"

# --- Logging ------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "dexweb.logging_filters.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        "axes.apps": {"level": "WARNING"},  # its start banner, printed by every process
    },
}

config_checks.check_production_settings(globals(), environ=os.environ)
