"""A service whose latency is a Prometheus native histogram: Go, client_golang's NativeHistogramBucketFactor.

Built on first use from `native_service/main.go` with Debian's `golang-go` and
`golang-github-prometheus-client-golang-dev` (offline, about 10 s: `GO111MODULE=off GOPATH=/usr/share/gocode`),
and run on 127.0.0.1 as a child process; the native-histogram tests and benchmarks scrape it with a Prometheus
started with `--enable-feature=native-histograms`.
"""

import os
import shutil
import subprocess
import tempfile
import weakref
from pathlib import Path

from validator.demo.processes import http_request, start_process, stop_process, tail, wait_until
from validator.errors import NativeServiceUnavailable
from validator.net import free_port

SOURCE = Path(__file__).parent / "native_service"
GOPATH = "/usr/share/gocode"
CLIENT_GOLANG = Path(GOPATH) / "src/github.com/prometheus/client_golang/prometheus"
LATENCY_METRIC = "native_request_duration_seconds"
REQUEST_COUNTER = "native_requests_total"
PACKAGES = "apt-get install -y golang-go golang-github-prometheus-client-golang-dev"


LOCUSTFILE = """
from locust import FastHttpUser, constant, task

class Items(FastHttpUser):
    wait_time = constant(0)

    @task
    def items(self):
        self.client.get("/api/items")
"""

SPEC = """
[service]
name = "native"
[target]
url = "http://127.0.0.1:1"
[load]
locustfile = "locustfile.py"
users = {users}
spawn_rate = {users}
duration = "{duration}"
warmup = "{warmup}"
[prometheus]
url = "http://127.0.0.1:2"
latency_histogram = "native_request_duration_seconds"
request_counter = "native_requests_total"
histogram = "{histogram}"
selector = 'job="native"'
scrape_interval = "1s"
"""


def write_spec(folder: Path, histogram: str, gates: str, users: int = 10, duration: str = "12s",
               warmup: str = "2s") -> Path:
    """folder/sla.toml for the service (ENDPOINT and PROMETHEUS_URL point it at the running pair) with `gates`,
    and folder/locustfile.py hitting /api/items with no wait."""
    (folder / "locustfile.py").write_text(LOCUSTFILE)
    path = folder / "sla.toml"
    path.write_text(SPEC.format(histogram=histogram, users=users, duration=duration, warmup=warmup) + gates)
    return path


def missing() -> str | None:
    """What is missing to build the service (with the command that installs it), or None."""
    if shutil.which("go") is None:
        return f"go is missing: {PACKAGES}"
    if not CLIENT_GOLANG.is_dir():
        return f"client_golang is missing from {GOPATH}: {PACKAGES}"
    return None


def build(directory: Path) -> Path:
    """The service's binary, compiled into `directory`; NativeServiceUnavailable with the compiler's words."""
    problem = missing()
    if problem:
        raise NativeServiceUnavailable(problem)
    binary = directory / "native_service"
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": GOPATH, "GOCACHE": str(directory / "gocache")}
    done = subprocess.run(["go", "build", "-o", str(binary), "."], cwd=SOURCE, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise NativeServiceUnavailable(f"go build failed: {done.stderr.strip()[-2000:]}")
    return binary


class NativeService:
    """The built service as a child process on 127.0.0.1; a context manager that always stops it."""

    def __init__(self, binary: Path, factor: float = 1.1, classic: bool = False, error_rate: float = 0.0) -> None:
        self.binary, self.port = binary, free_port()
        self.args = [f"-factor={factor}", f"-error-rate={error_rate}"] + (["-classic"] if classic else [])
        self._stopper: weakref.finalize | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def __enter__(self) -> "NativeService":
        directory = Path(tempfile.mkdtemp(prefix="slagate-native-"))
        log = directory / "service.log"
        with log.open("wb") as output:
            process = start_process([str(self.binary), f"-listen={self.address}", *self.args], output)
        self._stopper = weakref.finalize(self, stop_process, process, 5.0, directory)
        problem = wait_until(lambda: http_request(f"{self.url}/metrics", timeout=1)[0] == 200, 15.0, process)
        if problem:
            output_tail = tail(log)
            self._stopper()
            raise NativeServiceUnavailable(f"native service on {self.address} {problem}; its output:\n{output_tail}")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._stopper is not None:
            self._stopper()
