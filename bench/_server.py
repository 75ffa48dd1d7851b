"""Shared by the benches: gunicorn serving dexweb (and so the emulator) on a free port, and the
command line of a Celery worker.

production_like_env: DEBUG off, hashed static names (collectstatic into the bench's own var dir,
as the Docker image does), the same settings the site runs with in production apart from HTTPS
and the checks that need real secrets. start_emulator: the benches' own settings, the emulator
in its own processes so its data generation does not share the bench's GIL.
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


def start_gunicorn(env: dict, *, workers: int = 2, threads: int = 1) -> tuple[str, subprocess.Popen]:
    """(base URL, process) of a gunicorn serving dexweb.wsgi once it answers; the caller stops it."""
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
    except BaseException:
        process.kill()
        raise
    return url, process


@contextmanager
def gunicorn(env: dict, *, workers: int = 2, threads: int = 1):
    """Yields the base URL of a gunicorn serving dexweb.wsgi; stops it on exit."""
    url, process = start_gunicorn(env, workers=workers, threads=threads)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def start_emulator(env: dict | None = None) -> tuple[str, subprocess.Popen]:
    """(base URL, process) of dexweb with its emulator at /emulator/, in the bench's environment."""
    return start_gunicorn({**(env or os.environ), "AXES_ENABLED": "false"})


def celery_worker_argv(*options: str) -> list[str]:
    """A Celery worker of dexweb without the cluster chatter a single-machine bench does not need."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "dexweb",
        "worker",
        *options,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]


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
