"""manage.py run_demo: the whole product in the foreground, on embedded defaults.

Order matters: migrate; collectstatic (only without DEBUG, where WhiteNoise stops using finders);
the web server (gunicorn, which also serves the emulator at /emulator); wait until it answers;
seed_demo (connecting the demo patient is an OAuth exchange with that emulator over HTTP, so the
web server must be up); then the Celery worker and beat. Every step is a child process with the
same environment, so DEXWEB_PUBLIC_URL follows --port in all of them, whatever the settings of
this supervising process were loaded with. Ctrl-C (SIGINT) or SIGTERM stops everything; if any
child dies, the others are stopped and the command exits non-zero.
"""

import os
import socket
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.demo import services
from apps.demo.supervisor import ChildDied, StopRequested, Supervisor

WEB_START_TIMEOUT_SECONDS = 90
# Path only: query strings carry OAuth codes, which must stay out of logs.
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'


class Command(BaseCommand):
    help = "Migrate, seed and run web (with the emulator), a Celery worker and beat until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="Port on 127.0.0.1 (8000).")

    def handle(self, *args, port: int, **options):
        _ensure_port_free(port)
        env = demo_environment(port)
        supervisor = Supervisor(env=env, cwd=str(settings.BASE_DIR), write=self._write_line)
        supervisor.install_signal_handlers()
        try:
            self._run(supervisor, port=port, public_url=env["DEXWEB_PUBLIC_URL"])
        except StopRequested:
            supervisor.say("stop requested")
        except ChildDied as died:
            supervisor.say(f"{died}; stopping the others")
            raise CommandError(f"{died}") from None
        finally:
            supervisor.stop_all()
            supervisor.say("stopped")

    def _write_line(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

    def _run(self, supervisor: Supervisor, *, port: int, public_url: str) -> None:
        supervisor.say(f"DEXWEB_PUBLIC_URL={public_url}; data in {settings.VAR_DIR}")
        self._step(supervisor, "migrate", _manage("migrate", "--noinput"))
        if not settings.DEBUG:
            self._step(supervisor, "static", _manage("collectstatic", "--noinput"))
        web = supervisor.start("web", _gunicorn_argv(port))
        try:
            supervisor.wait_until_answers(
                f"http://127.0.0.1:{port}/healthz/", child=web, timeout=WEB_START_TIMEOUT_SECONDS
            )
        except TimeoutError as error:
            raise CommandError(f"the web server did not start: {error}") from None
        self._step(supervisor, "seed", _manage("seed_demo"))
        supervisor.start("worker", _celery_argv("worker", "--loglevel", "INFO", "--concurrency", "2"))
        supervisor.start("beat", _celery_argv("beat", "--loglevel", "INFO"))
        for line in banner_lines(public_url):
            supervisor.say(line)
        supervisor.watch()
        supervisor.say("stop requested")

    def _step(self, supervisor: Supervisor, name: str, argv: list[str]) -> None:
        returncode = supervisor.run_step(name, argv)
        if returncode != 0:
            raise CommandError(f"{name} failed with exit code {returncode}; see its output above")


def demo_environment(port: int) -> dict:
    """The children's environment: DEXWEB_PUBLIC_URL follows the port unless set explicitly."""
    env = dict(os.environ)
    env.setdefault("DEXWEB_PUBLIC_URL", f"http://127.0.0.1:{port}")
    env["PYTHONUNBUFFERED"] = "1"  # so output streams line by line instead of in blocks
    env.setdefault("DJANGO_SETTINGS_MODULE", "dexweb.settings")
    return env


def banner_lines(public_url: str) -> list[str]:
    lines = [
        "",
        f"dexweb is running at {public_url}/",
        f"  Dexcom API emulator: {public_url}/emulator/",
        f"  Admin: {public_url}/admin/",
        f"  Demo logins, password {services.DEMO_PASSWORD}:",
    ]
    lines += [f"    {spec.email:<24} {spec.about}" for spec in services.DEMO_USERS]
    lines += [
        "  The clinician and the admin also give a second-factor code: get it with",
        "    .venv/bin/python manage.py demo_totp",
        f"  or add the TOTP secret {services.DEMO_TOTP_SECRET} to an authenticator app.",
        "  Signing up works too: the confirmation email is printed here (console email backend).",
        "  Ctrl-C stops web, worker and beat.",
        "",
    ]
    return lines


def _manage(*arguments: str) -> list[str]:
    return [sys.executable, str(settings.BASE_DIR / "manage.py"), *arguments]


def _gunicorn_argv(port: int) -> list[str]:
    return [
        sys.executable, "-m", "gunicorn", "dexweb.wsgi:application",
        "--bind", f"127.0.0.1:{port}",
        "--workers", "2",
        "--threads", "4",  # the emulator answers the worker's sync calls on this same server
        "--timeout", "120",
        "--graceful-timeout", "10",
        "--access-logfile", "-",
        "--access-logformat", ACCESS_LOG_FORMAT,
        "--no-control-socket",  # its default path is per user, shared by every gunicorn here
    ]  # fmt: skip


def _celery_argv(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "dexweb", *arguments]


def _ensure_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            raise CommandError(
                f"port {port} on 127.0.0.1 is taken ({error.strerror}): stop what uses it, "
                f"or pick another port: make demo PORT={port + 1}"
            ) from None
