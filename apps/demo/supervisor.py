"""Keep a few processes running in the foreground as one: start, stream, stop together.

run_demo uses it for the web server, the Celery worker and beat (and the one-off migrate and seed
steps before them). Each child runs in its own session, so a Ctrl-C in the terminal reaches only
this process, which then stops the children in order (beat, worker, web) and kills whatever is
left of a child's process group after a grace period. If a child dies on its own, the rest are
stopped and the caller exits non-zero: a demo with no worker would look alive and do nothing.
If this process itself is killed outright, Linux sends each child SIGTERM (see the prologue).
"""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

STOP_GRACE_SECONDS = 15
POLL_SECONDS = 0.2
PR_SET_PDEATHSIG = 1

# Each child starts through this prologue, which then execs the real command in the same process.
# It asks Linux to SIGTERM the child when this supervisor dies, even by SIGKILL, so a killed
# run_demo leaves no web server holding the port. (Not preexec_fn: unsafe once threads run.)
_PARENT_DEATH_PROLOGUE = f"""
import ctypes, os, signal, sys
prctl = getattr(ctypes.CDLL(None), "prctl", None)
if prctl is not None:
    prctl({PR_SET_PDEATHSIG}, signal.SIGTERM)
if os.getppid() != int(sys.argv[1]):
    sys.exit("run_demo is gone; not starting " + sys.argv[2])
os.execvp(sys.argv[2], sys.argv[2:])
"""


class StopRequested(Exception):
    """SIGINT or SIGTERM arrived while a step was running."""


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    reader: threading.Thread

    @property
    def running(self) -> bool:
        return self.process.poll() is None


class Supervisor:
    def __init__(self, *, env: dict, cwd: str, write):
        self.env = env
        self.cwd = cwd
        self._write = write
        self._print_lock = threading.Lock()
        self.children: list[Child] = []
        self.stop_signal: int | None = None

    # --- output ------------------------------------------------------------------------------
    def say(self, line: str, *, name: str = "demo") -> None:
        with self._print_lock:
            if self._write is None:
                return
            try:
                self._write(f"{name:<6} | {line}")
            except OSError:
                # The reader went away (a pipe into `tee` closed by Ctrl-C): keep going
                # silently, since stopping the children matters more than reporting it.
                self._write = None

    def _stream(self, name: str, pipe) -> None:
        for line in pipe:
            self.say(line.rstrip("\n"), name=name)

    # --- signals -----------------------------------------------------------------------------
    def install_signal_handlers(self) -> None:
        # SIGHUP too: a closed terminal should stop the demo cleanly, not orphan it.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._on_stop_signal)

    def _on_stop_signal(self, signum, frame) -> None:
        if self.stop_signal is not None:
            # A second Ctrl-C means "now": no more waiting for graceful shutdowns.
            self._kill_groups()
        self.stop_signal = signum

    def _raise_if_stop_requested(self) -> None:
        if self.stop_signal is not None:
            raise StopRequested

    # --- children ----------------------------------------------------------------------------
    def start(self, name: str, argv: list[str]) -> Child:
        process = subprocess.Popen(
            [sys.executable, "-c", _PARENT_DEATH_PROLOGUE, str(os.getpid()), *argv],
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            bufsize=1,
            start_new_session=True,  # terminal signals go to us; we decide the shutdown order
        )
        reader = threading.Thread(target=self._stream, args=(name, process.stdout), daemon=True)
        reader.start()
        child = Child(name=name, process=process, reader=reader)
        self.children.append(child)
        return child

    def run_step(self, name: str, argv: list[str]) -> int:
        """Run a one-off command to its end and return its exit code (StopRequested on Ctrl-C)."""
        child = self.start(name, argv)
        while child.running:
            self._raise_if_stop_requested()
            time.sleep(POLL_SECONDS)
        child.reader.join(timeout=5)
        self.children.remove(child)
        return child.process.returncode

    def wait_until_answers(self, url: str, *, child: Child, timeout: float) -> None:
        """Poll `url` until it answers 200; raise if `child` dies first or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._raise_if_stop_requested()
            if not child.running:
                raise ChildDied(child)
            if _answers(url):
                return
            time.sleep(POLL_SECONDS)
        raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")

    def watch(self) -> None:
        """Block until a stop is requested (returns) or a child exits on its own (ChildDied)."""
        while self.stop_signal is None:
            for child in self.children:
                if not child.running:
                    raise ChildDied(child)
            time.sleep(POLL_SECONDS)

    def stop_all(self, *, grace: float = STOP_GRACE_SECONDS) -> None:
        """SIGTERM every child, newest first; SIGKILL process groups still alive after `grace`."""
        for child in reversed(self.children):
            if child.running:
                self.say(f"stopping {child.name}")
                _signal_process(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for child in reversed(self.children):
            _wait_until(deadline, child.process)
        # Pool processes of a child that died hard would outlive it: clear each group.
        self._kill_groups()
        for child in self.children:
            child.process.wait()
            child.reader.join(timeout=5)

    def _kill_groups(self) -> None:
        for child in self.children:
            with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
                os.killpg(child.process.pid, signal.SIGKILL)


class ChildDied(Exception):
    def __init__(self, child: Child):
        self.child = child
        self.returncode = child.process.returncode
        super().__init__(f"{child.name} exited with code {self.returncode}")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _signal_process(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _wait_until(deadline: float, process: subprocess.Popen) -> None:
    remaining = deadline - time.monotonic()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=max(remaining, 0.1))
