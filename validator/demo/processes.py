"""Child processes for the demo: starting, waiting for and stopping them, and the demo target on a free port.

Every child is stopped on exit, on exceptions, at interpreter exit, and (Linux) when this process dies.
"""

import contextlib
import ctypes
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from validator.demo.target import DemoSettings
from validator.net import free_port

# Loopback only: never route these requests through an HTTP proxy taken from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_PR_SET_PDEATHSIG = 1
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None


def http_request(url: str, method: str = "GET", body: bytes | None = None, timeout: float = 5.0) -> tuple[int, bytes]:
    """(status, body) of one HTTP request without proxies; error statuses are returned, not raised."""
    request = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


def start_process(args: list[str], output: IO[bytes]) -> subprocess.Popen[bytes]:
    """Start a child in its own session (Ctrl-C reaches only us; we stop it) that Linux kills if we die.

    Linux ties the death signal to the calling thread: start children from a thread that outlives them.
    """
    return subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_die_with_parent if _prctl is not None else None,
    )


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: SIGTERM it when the parent dies, even by SIGKILL.
    assert _prctl is not None
    _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def stop_process(process: subprocess.Popen[bytes], grace: float, directory: Path) -> None:
    """SIGTERM, wait up to `grace` seconds, SIGKILL, reap; then remove the child's temporary directory.

    Used as a weakref.finalize callback, so it holds no reference to the object that owns the child.
    """
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait()
    shutil.rmtree(directory, ignore_errors=True)


def wait_until(ready: Callable[[], bool], timeout: float, process: subprocess.Popen[bytes]) -> str | None:
    """Poll `ready` until it holds; None on success, else why not ('exited with N' or 'timed out after T s')."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            return f"exited with status {process.returncode}"
        with contextlib.suppress(OSError):  # refused, reset, or timed out: not ready yet
            if ready():
                return None
        if time.monotonic() > deadline:
            return f"timed out after {timeout:g} s"
        time.sleep(0.05)


def tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log file, for error messages."""
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return f"(no log at {path})"


class DemoTarget:
    """The demo target (`python -m validator.demo.target`) as a child process on 127.0.0.1."""

    def __init__(self, settings: DemoSettings | None = None, port: int | None = None) -> None:
        self.initial_settings = settings or DemoSettings()
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._stopper: weakref.finalize | None = None

    @property
    def address(self) -> str:
        """host:port, as a Prometheus scrape target."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """Base URL for load and for /-/config."""
        return f"http://{self.address}"

    def start(self, timeout: float = 15.0) -> "DemoTarget":
        """Start the child and wait until /healthz answers; RuntimeError with its output if it does not."""
        if self.process is not None:
            raise RuntimeError(f"demo target on {self.address} was already started")
        args = [sys.executable, "-m", "validator.demo.target", "--host", "127.0.0.1", "--port", str(self.port)]
        directory = Path(tempfile.mkdtemp(prefix="slagate-demo-target-"))
        log = directory / "target.log"
        with log.open("wb") as output:
            self.process = start_process(args + self.initial_settings.cli_args(), output)
        # Runs on stop(), on garbage collection, or at interpreter exit, whichever comes first.
        self._stopper = weakref.finalize(self, stop_process, self.process, 5.0, directory)
        problem = wait_until(lambda: http_request(f"{self.url}/healthz", timeout=1)[0] == 200, timeout, self.process)
        if problem:
            output_tail = tail(log)
            self.stop()
            raise RuntimeError(f"demo target on {self.address} {problem}; its output:\n{output_tail}")
        return self

    def stop(self) -> None:
        """Stop the child (SIGTERM, then SIGKILL after 5 s) and remove its log; safe to call twice."""
        if self._stopper is not None:
            self._stopper()

    def settings(self) -> DemoSettings:
        """The settings the running target uses now (GET /-/config)."""
        return self._config("GET", None)

    def configure(self, **changes: Any) -> DemoSettings:
        """Change settings at runtime (PUT /-/config), e.g. `configure(error_rate=0.05)`; returns the new ones."""
        return self._config("PUT", json.dumps(changes).encode())

    def _config(self, method: str, body: bytes | None) -> DemoSettings:
        status, answer = http_request(f"{self.url}/-/config", method, body)
        if status != 200:
            raise ValueError(f"demo target rejected the settings: {answer.decode(errors='replace')}")
        return DemoSettings(**json.loads(answer))

    def __enter__(self) -> "DemoTarget":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
