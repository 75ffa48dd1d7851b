"""Shared by the browser and throughput benches: a production-like gunicorn on a free port.

DEBUG off, hashed static names (collectstatic into the bench's own var dir, as the Docker image
does), the same settings the site runs with in production apart from HTTPS and the checks that
need real secrets.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def production_like_env(var_dir: str) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "dexweb.settings",
            "DEXWEB_VAR_DIR": var_dir,
            "DEBUG": "False",
            "STATIC_MANIFEST": "true",
            "AXES_ENABLED": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def collectstatic(env: dict) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--noinput", "--clear", "-v0"],
        env=env,
        check=True,
        cwd=ROOT,
    )


@contextmanager
def gunicorn(env: dict, *, workers: int = 2, threads: int = 1):
    """Yields the base URL of a gunicorn serving dexweb.wsgi; stops it on exit."""
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "dexweb.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--timeout",
        "120",
        "--no-control-socket",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(argv, env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/healthz/", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer /healthz/ within 60 s")
