"""manage.py run_demo as `make demo` runs it: real processes, a real port, real signals.

The command runs on the embedded defaults (SQLite and the SQLAlchemy broker) in a data directory
of its own, whatever DATABASE_URL / CELERY_BROKER_URL the suite itself runs against, with a 3-day
backfill to keep it quick. One cold start (migrate a new SQLite file, seed, OAuth, backfill over
HTTP) serves the module and runs on while the tests of a dying worker and a killed run_demo start
from a snapshot of its database, as a second `make demo` would: by the time they are done, its
beat has queued the minute task, and the last test stops it and runs again in its directory.
"""

import contextlib
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from apps.demo import services

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_FILE = "dexweb.sqlite3"  # in the data directory (dexweb.settings)
START_TIMEOUT = 240  # a cold start migrates a new SQLite file and backfills over HTTP

pytestmark = pytest.mark.worker


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class Demo:
    """run_demo in the background, with its output kept for waiting and asserting on."""

    def __init__(self, var_dir: Path, port: int):
        self.var_dir = var_dir
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/root"),
            "DEXWEB_VAR_DIR": str(var_dir),
            "DEXWEB_DOTENV": str(var_dir / "no.env"),
            "SYNC_BACKFILL_DAYS": "3",
        }
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "run_demo", "--port", str(port)],
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = START_TIMEOUT) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.output)
            if match:
                return match
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"no {pattern!r} in run_demo's output:\n{self.output[-6000:]}")

    def stop(self, signum: int = signal.SIGINT, timeout: float = 60) -> int:
        self.process.send_signal(signum)
        returncode = self.process.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return returncode

    def child_pid(self, word: str) -> int:
        """The pid of the child whose command line has `word` (e.g. "worker")."""
        return _pid_of_command_line(self.process.pid, word)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _pid_of_command_line(parent_pid: int, word: str) -> int:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command_line = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == parent_pid and word.encode() in command_line:
            return int(entry.name)
    raise AssertionError(f"no child of {parent_pid} runs {word!r}")


def sign_in(base_url: str, email: str, password: str) -> requests.Response:
    session = requests.Session()
    page = session.get(f"{base_url}/accounts/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return session.post(
        f"{base_url}/accounts/login/",
        data={"login": email, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base_url}/accounts/login/"},
        timeout=30,
    )


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """run_demo started in a new data directory (the cold start), shared by the module."""
    demo = Demo(tmp_path_factory.mktemp("demo") / "var", free_port())
    yield demo
    demo.kill()


@pytest.fixture
def demo_factory():
    started = []

    def start(var_dir: Path, port: int | None = None) -> Demo:
        demo = Demo(var_dir, port or free_port())
        started.append(demo)
        return demo

    yield start
    for demo in started:
        demo.kill()


@pytest.fixture
def seeded_demo(first_run, demo_factory, tmp_path) -> Demo:
    """run_demo on a snapshot of the first run's database (migrated, seeded, backfilled), taken
    with SQLite's backup API while the first run goes on."""
    first_run.wait_for(r"dexweb is running at")
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    with (
        contextlib.closing(sqlite3.connect(first_run.var_dir / DATABASE_FILE)) as source,
        contextlib.closing(sqlite3.connect(var_dir / DATABASE_FILE)) as copy,
    ):
        source.backup(copy)
    return demo_factory(var_dir)


def test_it_serves_the_site_with_worker_and_beat(first_run):
    demo = first_run
    demo.wait_for(r"dexweb is running at " + re.escape(demo.url))

    assert f"DEXWEB_PUBLIC_URL={demo.url}" in demo.output  # the emulator follows the port
    assert "Dexcom: connected to SandboxUser1" in demo.output
    assert "now shares with clinician@example.com" in demo.output
    assert services.DEMO_PASSWORD in demo.output
    signed_in = sign_in(demo.url, "patient@example.com", services.DEMO_PASSWORD)
    assert signed_in.status_code == 200
    assert re.search(r"/patients/\d+/overview/$", signed_in.url)
    assert requests.get(f"{demo.url}/emulator/v3/users/self/egvs", timeout=30).status_code == 401
    demo.wait_for(r"worker +\| .*celery@\S+ ready")
    demo.wait_for(r"beat +\| .*beat: Starting")


def test_when_the_worker_dies_it_stops_the_rest_and_fails(seeded_demo):
    demo = seeded_demo
    demo.wait_for(r"dexweb is running at")
    demo.wait_for(r"worker +\| .*ready")

    os.kill(demo.child_pid("worker"), signal.SIGKILL)

    returncode = demo.process.wait(timeout=60)
    assert returncode != 0
    assert "worker exited with code -9" in demo.output
    assert "stopping web" in demo.output
    assert port_is_free(demo.port)


def test_killing_run_demo_outright_takes_its_children_with_it(seeded_demo):
    demo = seeded_demo
    demo.wait_for(r"dexweb is running at")
    children = [_pid_of_command_line(demo.process.pid, word) for word in ("gunicorn", "worker", "beat")]

    demo.process.kill()  # SIGKILL: no handler runs, only the children's parent-death signal
    demo.process.wait()

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(pid) for pid in children):
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in children)
    assert port_is_free(demo.port)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie is dead, only waiting for its parent to read its status


def test_it_refuses_a_port_in_use_and_says_which(demo_factory, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        demo = demo_factory(tmp_path / "var", busy.getsockname()[1])
        returncode = demo.process.wait(timeout=60)

    assert returncode != 0
    assert f"port {demo.port} on 127.0.0.1 is taken" in demo.output


def test_beat_and_worker_run_the_minute_task_then_ctrl_c_stops_all_and_a_second_run_reuses_data(
    first_run, demo_factory
):
    demo = first_run
    # Beat queues the sync engine's minute task (due a minute after beat started: the tests
    # above have used that minute) and the worker runs it: beat, broker and worker work together.
    demo.wait_for(r"beat +\| .*Scheduler: Sending due task", timeout=150)
    demo.wait_for(r"worker +\| .*Task sync\.enqueue_due_syncs\[[^\]]+\] succeeded", timeout=60)

    assert demo.stop(signal.SIGINT) == 0
    assert "stopping worker" in demo.output and "stopping beat" in demo.output
    assert port_is_free(demo.port)

    again = demo_factory(demo.var_dir, demo.port)
    again.wait_for(r"dexweb is running at")
    assert "patient@example.com      patient    exists" in again.output
    assert "Dexcom: already connected" in again.output
    assert "already shares" in again.output
    again.wait_for(r"worker +\| .*celery@\S+ ready")
    again.wait_for(r"beat +\| .*beat: Starting")
    assert again.stop(signal.SIGTERM) == 0
