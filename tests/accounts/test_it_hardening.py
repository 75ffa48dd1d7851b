"""Production settings pass `check --deploy`; headers protect every page."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def _production_env(tmp_path) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DEXWEB_", "DATABASE_", "DEXCOM_", "CELERY_"))
    }
    env.update(
        DEXWEB_ENV="production",
        DEXWEB_DOTENV="/nonexistent/.env",  # a developer's .env must not change the verdict
        DEXWEB_VAR_DIR=str(tmp_path),
        SECRET_KEY="k" * 20 + "-production-secret-0123456789-abcdefghij",
        TOKEN_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        DATABASE_URL="postgres://dexweb:secret@db.internal:5432/dexweb",
        CELERY_BROKER_URL="redis://redis.internal:6379/0",
        CACHE_URL="redis://redis.internal:6379/1",
        DEXCOM_BASE_URL="us",
        DEXCOM_CLIENT_ID="issued-client-id",
        DEXCOM_CLIENT_SECRET="issued-client-secret",
        DEXCOM_REDIRECT_URI="https://dexweb.example.org/accounts/dexcom/login/callback/",
        DEXWEB_PUBLIC_URL="https://dexweb.example.org",
        ALLOWED_HOSTS="dexweb.example.org",
    )
    env.pop("DEBUG", None)
    # Browser tests set this in the test process; a deployment never does.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def _manage(tmp_path, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=_production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_passes_check_deploy_with_production_settings(tmp_path):
    result = _manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_secures_cookies_and_transport_in_production(tmp_path):
    code = (
        "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_HSTS_SECONDS >= 31536000, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "s.SESSION_COOKIE_HTTPONLY, s.DEBUG)"
    )
    result = _manage(tmp_path, "shell", "-c", code)
    assert result.stdout.strip().splitlines()[-1] == "True True True True True True False", result.stderr


@pytest.mark.django_db
def test_it_sends_security_headers(client, patient):
    client.force_login(patient)
    response = client.get("/sharing/")
    csp = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if part.strip())
    # Plotly is served from our own static files: scripts from 'self' only, no CDN, no inline.
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in directives["script-src"] and "unsafe-eval" not in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_it_loads_no_script_from_a_cdn():
    offenders = []
    for folder in ["templates", "apps"]:
        for path in (ROOT / folder).rglob("*.html"):
            text = path.read_text(errors="ignore")
            if "<script" in text and ('src="http' in text or "src='http" in text or 'src="//' in text):
                offenders.append(str(path))
    assert offenders == []
