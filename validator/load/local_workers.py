"""Local load-worker processes (`python -m validator.load.worker`), started and always stopped by the master.

Each runs in its own process group (a terminal's Ctrl-C reaches only the master, which stops it) but in the
master's session, as Locust's forked `--processes` workers do: a session of its own would make each worker a
scheduler autogroup of its own, and the cores it shares with a target on the same machine then carry fewer
requests. Its output goes to a temporary log; Linux kills it if the master dies.
"""

import ctypes
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_PR_SET_PDEATHSIG = 1
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None
STOP_GRACE_S = 5.0


def _die_with_parent() -> None:
    assert _prctl is not None
    _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class LocalWorkers:
    """`count` worker processes connected to a master on `host:port`; `stop()` always ends them."""

    def __init__(self, count: int, host: str, port: int, locustfile: str) -> None:
        self.count = count
        self.directory = Path(tempfile.mkdtemp(prefix="slagate-workers-"))
        self.processes: list[subprocess.Popen[bytes]] = []
        self.exited: dict[int, float] = {}  # pid → when the master noticed it had exited
        args = [sys.executable, "-m", "validator.load.worker", "--master-host", host, "--master-port", str(port)]
        for number in range(count):
            with (self.directory / f"worker-{number}.log").open("wb") as log:
                self.processes.append(
                    subprocess.Popen(
                        [*args, "--locustfile", locustfile],
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        process_group=0,
                        preexec_fn=_die_with_parent if _prctl is not None else None,
                    )
                )

    def poll(self) -> str | None:
        """A description of the workers that have exited since the last call, or None if all run."""
        news = []
        for process in self.processes:
            if process.poll() is not None and process.pid not in self.exited:
                self.exited[process.pid] = time.time()
                news.append(f"pid {process.pid} exited with status {process.returncode}: {self._tail(process)}")
        return "; ".join(news) or None

    def stop(self) -> None:
        """Wait briefly for workers to exit on the master's quit, then terminate the rest; remove the logs."""
        deadline = time.time() + STOP_GRACE_S
        for process in self.processes:
            try:
                process.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                process.terminate()
                try:
                    process.wait(STOP_GRACE_S)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _tail(self, process: subprocess.Popen[bytes]) -> str:
        index = self.processes.index(process)
        try:
            lines = (self.directory / f"worker-{index}.log").read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(lines[-3:]) or "(no output)"
