"""Settings: region names, Fernet keys, and production refusing to start misconfigured.

The production cases start a real Python process with DEXWEB_ENV=production, because the checks
run when settings are imported, which this test process did long ago with development defaults.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from dexweb import config_checks
from dexweb.dexcom_regions import resolve_dexcom_base_url

BASE_DIR = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DEXWEB_ENV": "production",
    "SECRET_KEY": "x7Lq2v9Rk4mN8pW3sT6yB1cF5hJ0gD2aZ9eU4iO7rQ3wV8nM-e5Tg7Yh2Kp4Zs6Xd",
    "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "DATABASE_URL": "postgres://dexweb:secret@postgres:5432/dexweb",
    "CELERY_BROKER_URL": "redis://redis:6379/0",
    "CACHE_URL": "redis://redis:6379/1",
    "ALLOWED_HOSTS": "dexweb.example.com",
    "DEXWEB_PUBLIC_URL": "https://dexweb.example.com",
    "DEXCOM_BASE_URL": "us",
    "DEXCOM_CLIENT_ID": "issued-client-id",
    "DEXCOM_CLIENT_SECRET": "issued-client-secret",
}


def run_python(args: list[str], env: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run Python in a clean environment: nothing from this test process or a .env leaks in."""
    clean = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "DEXWEB_VAR_DIR": str(tmp_path),
        "DEXWEB_DOTENV": str(tmp_path / "no.env"),
        **env,
    }
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=clean, capture_output=True, text=True, timeout=60
    )


def import_settings(env: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    return run_python(["-c", "import dexweb.settings"], env, tmp_path)


def test_region_names_map_to_dexcom_hosts():
    public = "http://127.0.0.1:8000"
    assert resolve_dexcom_base_url("us", public_url=public) == "https://api.dexcom.com"
    assert resolve_dexcom_base_url("EU", public_url=public) == "https://api.dexcom.eu"
    assert resolve_dexcom_base_url("jp", public_url=public) == "https://api.dexcom.jp"
    assert resolve_dexcom_base_url("sandbox", public_url=public) == "https://sandbox-api.dexcom.com"
    assert resolve_dexcom_base_url("emulator", public_url=public) == public + "/emulator"
    assert resolve_dexcom_base_url("http://x:9/", public_url=public) == "http://x:9"


def test_a_bad_fernet_key_is_refused_by_name():
    with pytest.raises(ImproperlyConfigured, match="TOKEN_ENCRYPTION_KEYS: key #2"):
        config_checks.check_fernet_keys(["ZGV4d2ViLWRldi1vbmx5LWZlcm5ldC1rZXktMDAwMDA=", "short"])


def test_it_starts_in_production_with_every_variable_set_and_passes_check_deploy(tmp_path):
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV, tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_it_starts_in_development_with_no_variables_at_all(tmp_path):
    result = import_settings({}, tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("variable", config_checks.PRODUCTION_REQUIRED_VARIABLES)
def test_it_refuses_production_with_a_required_variable_missing(variable, tmp_path):
    env = {name: value for name, value in PRODUCTION_ENV.items() if name != variable}
    result = import_settings(env, tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{variable}: required when DEXWEB_ENV=production" in result.stderr


BAD_PRODUCTION_VALUES = [
    ("SECRET_KEY", "too-short"),
    ("SECRET_KEY", "dev-insecure-dexweb-secret-key-do-not-use-in-production-0123456789"),
    ("TOKEN_ENCRYPTION_KEYS", "not-a-fernet-key"),
    ("TOKEN_ENCRYPTION_KEYS", "ZGV4d2ViLWRldi1vbmx5LWZlcm5ldC1rZXktMDAwMDA="),
    ("DEBUG", "true"),
    ("DATABASE_URL", "sqlite:////tmp/dexweb.sqlite3"),
    ("CELERY_BROKER_URL", "sqla+sqlite:////tmp/broker.sqlite3"),
    ("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver"),
    ("DEXWEB_PUBLIC_URL", "http://dexweb.example.com"),
    ("DEXCOM_BASE_URL", "emulator"),
    ("DEXCOM_BASE_URL", "http://api.dexcom.com"),
    ("DEXCOM_CLIENT_ID", "dexweb-demo-client"),
    ("DEXCOM_CLIENT_SECRET", "dexweb-demo-secret"),
    ("DEXCOM_REDIRECT_URI", "http://dexweb.example.com/accounts/dexcom/login/callback/"),
    ("ALLOWED_HOSTS", "*"),
    ("ALLOWED_HOSTS", "dexweb.example.com,*"),
    ("SECRET_KEY", "a" * 50),
    ("SECRET_KEY", "ab" * 40),
    ("EMULATOR_ENABLED", "true"),
    ("SECURE_SSL_REDIRECT", "false"),
    ("SECURE_HSTS_SECONDS", "0"),
    ("AXES_ENABLED", "false"),
    ("ACCOUNT_EMAIL_VERIFICATION", "none"),
    ("CACHE_URL", "locmemcache://"),
    ("CACHE_URL", "filecache:///tmp/dexweb-cache"),
]


@pytest.mark.parametrize(("variable", "value"), BAD_PRODUCTION_VALUES)
def test_it_refuses_production_with_a_bad_value_naming_the_variable(variable, value, tmp_path):
    result = import_settings({**PRODUCTION_ENV, variable: value}, tmp_path)
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {variable}: " in result.stderr


def test_it_refuses_the_emulator_as_dexcom_even_when_switched_on(tmp_path):
    env = {**PRODUCTION_ENV, "DEXCOM_BASE_URL": "emulator", "EMULATOR_ENABLED": "true"}
    result = import_settings(env, tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured: EMULATOR_ENABLED: " in result.stderr


def test_a_proxy_that_enforces_https_may_take_over_the_redirect_and_hsts(tmp_path):
    env = {
        **PRODUCTION_ENV,
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "HTTPS_ENFORCED_BY_PROXY": "true",
    }
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env, tmp_path)
    assert result.returncode == 0, result.stderr


def test_the_secret_key_estimate_tells_random_from_repeated():
    assert config_checks.estimated_entropy_bits("a" * 50) == 0
    assert config_checks.estimated_entropy_bits(PRODUCTION_ENV["SECRET_KEY"]) > 200


def test_the_redirect_uri_follows_the_public_url_by_default(tmp_path):
    program = "from django.conf import settings as s; print(s.DEXCOM_REDIRECT_URI, s.DEXCOM_BASE_URL)"
    env = {"DJANGO_SETTINGS_MODULE": "dexweb.settings", "DEXWEB_PUBLIC_URL": "http://127.0.0.1:8001"}
    result = run_python(["-c", "import django; django.setup(); " + program], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "http://127.0.0.1:8001/accounts/dexcom/login/callback/",
        "http://127.0.0.1:8001/emulator",
    ]


def test_the_readme_documents_every_variable_settings_reads():
    settings_source = (BASE_DIR / "dexweb" / "settings.py").read_text()
    read = set(re.findall(r"\benv\.\w+\(\s*\"([A-Z][A-Z0-9_]*)\"", settings_source))
    readme = (BASE_DIR / "README.md").read_text()

    undocumented = sorted(name for name in read if f"`{name}`" not in readme)

    assert read and undocumented == []


@pytest.mark.parametrize(
    ("proxies", "trusted_header"), [("0", "None"), ("1", "('HTTP_X_FORWARDED_PROTO', 'https')")]
)
def test_x_forwarded_proto_is_trusted_only_behind_a_trusted_proxy(tmp_path, proxies, trusted_header):
    script = "import django; django.setup(); from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)"
    env = {**PRODUCTION_ENV, "TRUSTED_PROXY_COUNT": proxies, "DJANGO_SETTINGS_MODULE": "dexweb.settings"}
    result = run_python(["-c", script], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == trusted_header


def test_importing_settings_makes_no_directory_and_django_start_does(tmp_path):
    var_dir = tmp_path / "fresh-var"
    imported = run_python(["-c", "import dexweb.settings"], {"DEXWEB_VAR_DIR": str(var_dir)}, tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert not var_dir.exists()  # no side effect at import
    started = run_python(
        ["-c", "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'dexweb.settings'; django.setup()"],
        {"DEXWEB_VAR_DIR": str(var_dir)},
        tmp_path,
    )
    assert started.returncode == 0, started.stderr
    assert (var_dir / "staticfiles").is_dir()  # what the SQLite defaults and WhiteNoise need
