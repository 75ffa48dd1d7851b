"""docker-compose.yml matches the code: Docker does not run here, so read the file and check it.

Services exist and share one image, their commands point at real modules and options, every
variable passed in is one settings.py reads, production's required variables are all there, and
the environment compose would build passes production settings and `check --deploy`.
"""

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from celery import Celery
from celery.utils.imports import symbol_by_name
from django.conf import settings
from gunicorn.config import Config as GunicornConfig

from dexweb import config_checks

BASE_DIR = Path(__file__).resolve().parent.parent
APP_SERVICES = ("migrate", "web", "worker", "beat")
LONG_RUNNING_SERVICES = ("web", "worker", "beat", "postgres", "redis")
# What an operator would put in .env for compose to interpolate.
SAMPLE_DOTENV = {
    "SECRET_KEY": "x7Lq2v9Rk4mN8pW3sT6yB1cF5hJ0gD2aZ9eU4iO7rQ3wV8nM-e5Tg7Yh2Kp4Zs6Xd",
    "TOKEN_ENCRYPTION_KEYS": "q9hZKf1gW4t2wz3Hh0B0lqN3a0f1mJ6oKkRjz3m2mZ8=",
    "POSTGRES_PASSWORD": "a-database-password",
    "ALLOWED_HOSTS": "dexweb.example.com",
    "DEXWEB_PUBLIC_URL": "https://dexweb.example.com",
    "DEXCOM_CLIENT_ID": "issued-client-id",
    "DEXCOM_CLIENT_SECRET": "issued-client-secret",
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


def settings_source() -> str:
    return (BASE_DIR / "dexweb" / "settings.py").read_text()


def variables_read_by_settings() -> set[str]:
    """Names settings.py reads through django-environ: env.str("NAME", ...), env.db_url("NAME")..."""
    return set(re.findall(r"\benv\.\w+\(\s*\"([A-Z][A-Z0-9_]*)\"", settings_source()))


def interpolate(value: str, dotenv: dict) -> str:
    """Compose's ${NAME}, ${NAME:-default}, ${NAME:?error} and $$, enough for this file."""

    def replace(match: re.Match) -> str:
        name, operator, word = match.group(1), match.group(2), match.group(3)
        if dotenv.get(name):
            return dotenv[name]
        if operator == ":?":
            raise KeyError(f"compose would refuse to start: {name}: {word}")
        return word or ""

    value = re.sub(r"\$\{([A-Z0-9_]+)(?:(:-|:\?)([^}]*))?\}", replace, value)
    return value.replace("$$", "$")


def app_environment(compose: dict, dotenv: dict) -> dict:
    return {
        name: interpolate(str(value), dotenv)
        for name, value in compose["services"]["web"]["environment"].items()
    }


def test_it_has_the_services_of_the_deployment(compose):
    assert set(compose["services"]) >= {*APP_SERVICES, "postgres", "redis"}


def test_web_worker_beat_and_migrate_share_one_image(compose):
    services = compose["services"]
    assert {services[name]["image"] for name in APP_SERVICES} == {"dexweb:latest"}
    assert {services[name]["build"]["context"] for name in APP_SERVICES} == {"."}
    assert len({services[name]["build"]["dockerfile_inline"] for name in APP_SERVICES}) == 1


def test_the_dockerfile_builds_python_3_11_with_templates_and_static(compose):
    dockerfile = compose["services"]["web"]["build"]["dockerfile_inline"]
    assert re.search(r"^FROM python:3\.11", dockerfile, re.MULTILINE)
    for folder in ("dexweb", "apps", "templates", "static"):
        assert f"COPY {folder} {folder}" in dockerfile
    assert "collectstatic" in dockerfile


def test_web_runs_gunicorn_on_the_wsgi_application_with_valid_options(compose):
    command = compose["services"]["web"]["command"]
    assert command[0] == "gunicorn"
    module_name, attribute = command[1].split(":")
    assert module_name == settings.WSGI_APPLICATION.rsplit(".", 1)[0]
    assert callable(getattr(importlib.import_module(module_name), attribute))
    # gunicorn's own parser rejects unknown options (SystemExit).
    GunicornConfig().parser().parse_args(command[1:])


def test_worker_and_beat_run_the_dexweb_celery_app(compose):
    for name, subcommand in (("worker", "worker"), ("beat", "beat")):
        command = compose["services"][name]["command"]
        assert command[:4] == ["celery", "-A", "dexweb", subcommand]
    assert isinstance(importlib.import_module("dexweb").celery_app, Celery)


def test_beat_uses_the_scheduler_named_in_settings(compose):
    command = compose["services"]["beat"]["command"]
    scheduler = next(arg.split("=", 1)[1] for arg in command if arg.startswith("--scheduler="))
    assert scheduler == settings.CELERY_BEAT_SCHEDULER
    assert symbol_by_name(scheduler)


def test_migrate_runs_before_the_app_services(compose):
    services = compose["services"]
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    for name in ("web", "worker", "beat"):
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully"


def test_every_variable_compose_passes_is_read_by_settings(compose):
    read = variables_read_by_settings()
    for name in APP_SERVICES:
        passed = set(compose["services"][name]["environment"])
        assert passed - read == set(), f"{name} passes variables settings.py never reads"


def test_every_production_required_variable_is_passed(compose):
    passed = set(compose["services"]["web"]["environment"])
    assert set(config_checks.PRODUCTION_REQUIRED_VARIABLES) <= passed
    assert compose["services"]["web"]["environment"]["DEXWEB_ENV"] == "production"


def test_compose_refuses_to_start_without_the_secrets(compose):
    for secret in ("SECRET_KEY", "TOKEN_ENCRYPTION_KEYS", "POSTGRES_PASSWORD"):
        dotenv = {name: value for name, value in SAMPLE_DOTENV.items() if name != secret}
        with pytest.raises(KeyError, match=secret):
            app_environment(compose, dotenv)


def test_long_running_services_have_health_checks(compose):
    for name in LONG_RUNNING_SERVICES:
        healthcheck = compose["services"][name].get("healthcheck", {})
        assert healthcheck.get("test"), f"{name} has no health check"


def test_data_lives_in_named_volumes(compose):
    for name, path in (("postgres", "/var/lib/postgresql/data"), ("redis", "/data")):
        volume = compose["services"][name]["volumes"][0]
        volume_name, mount = volume.split(":")
        assert mount == path
        assert volume_name in compose["volumes"]


def test_the_database_and_broker_urls_point_at_the_compose_services(compose):
    environment = app_environment(compose, SAMPLE_DOTENV)
    postgres = compose["services"]["postgres"]["environment"]
    assert environment["DATABASE_URL"] == (
        f"postgres://{postgres['POSTGRES_USER']}:{SAMPLE_DOTENV['POSTGRES_PASSWORD']}"
        f"@postgres:5432/{postgres['POSTGRES_DB']}"
    )
    assert environment["CELERY_BROKER_URL"].startswith("redis://redis:6379/")


def test_the_compose_environment_passes_production_settings_and_check_deploy(compose, tmp_path):
    environment = {
        **app_environment(compose, SAMPLE_DOTENV),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "DEXWEB_VAR_DIR": str(tmp_path),
        "DEXWEB_DOTENV": str(tmp_path / "no.env"),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_workers_scale_out_and_beat_stays_single(compose):
    worker, beat = compose["services"]["worker"], compose["services"]["beat"]
    assert str(worker["deploy"]["replicas"]).startswith("${DEXWEB_WORKER_REPLICAS:-")
    assert int(str(worker["deploy"]["replicas"]).split(":-")[1].rstrip("}")) >= 2
    assert "replicas" not in beat.get("deploy", {})  # two beats would queue every tick twice
    assert worker["environment"] == compose["services"]["web"]["environment"]  # same Redis
