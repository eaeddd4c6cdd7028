"""A real Prometheus server as a managed child process on 127.0.0.1, scraping given targets.

Used by `slagate run --demo` and the integration tests; nothing is mocked, and nothing outlives its owner.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import urllib.parse
import weakref
from pathlib import Path
from typing import Any

from validator.demo.processes import free_port, http_request, start_process, stop_process, tail, wait_until
from validator.errors import PrometheusFailed, PrometheusNotFound

_DURATION = re.compile(r"(?:(\d+)(ms|s|m|h))")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}


def find_prometheus(binary: str | None = None) -> str:
    """The Prometheus executable: `binary`, else $PROMETHEUS_BIN, else `prometheus` on PATH."""
    candidate = binary or os.environ.get("PROMETHEUS_BIN") or "prometheus"
    found = shutil.which(candidate)
    if found is None:
        raise PrometheusNotFound(
            f"Prometheus binary {candidate!r} not found: install Debian's `prometheus` package "
            "(apt-get install -y prometheus) or set PROMETHEUS_BIN to the path of a prometheus executable"
        )
    return found


def scrape_timeout(interval: str) -> str:
    """A scrape timeout below a Prometheus duration such as '1s' or '1m30s' (80 % of it, in ms)."""
    parts = _DURATION.findall(interval)
    if not parts or "".join(number + unit for number, unit in parts) != interval:
        raise ValueError(f"scrape interval {interval!r}: expected a Prometheus duration such as 500ms, 1s or 1m30s")
    total_ms = sum(int(number) * _UNIT_MS[unit] for number, unit in parts)
    if total_ms < 10:
        raise ValueError(f"scrape interval {interval!r}: expected at least 10ms")
    return f"{total_ms * 4 // 5}ms"


class ManagedPrometheus:
    """Prometheus with a generated config and a throw-away TSDB; a context manager that always stops it."""

    def __init__(
        self,
        targets: list[str],
        scrape_interval: str = "1s",
        binary: str | None = None,
        port: int | None = None,
        job: str = "demo",
        features: tuple[str, ...] = (),
    ) -> None:
        self.targets = list(targets)
        self.features = features  # --enable-feature values, e.g. "native-histograms"
        self.scrape_interval = scrape_interval
        self.binary = binary
        self.port = port or free_port()
        self.job = job
        self.process: subprocess.Popen[bytes] | None = None
        self._directory: Path | None = None
        self._log: Path | None = None
        self._stopper: weakref.finalize | None = None

    @property
    def url(self) -> str:
        """Base URL of the HTTP API, e.g. http://127.0.0.1:9090."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> "ManagedPrometheus":
        """Write the config, start Prometheus and wait until /-/ready answers 200; PrometheusFailed otherwise.
        After `crash()` it starts again on the same port and TSDB, as a restarted server would."""
        if self.process is not None:
            raise RuntimeError(f"Prometheus on 127.0.0.1:{self.port} was already started")
        executable = find_prometheus(self.binary)
        if self._directory is None:
            self._directory = Path(tempfile.mkdtemp(prefix="slagate-prometheus-"))
            (self._directory / "prometheus.yml").write_text(self._config(scrape_timeout(self.scrape_interval)))
        directory, config = self._directory, self._directory / "prometheus.yml"
        if self._stopper is not None:
            self._stopper.detach()  # the crashed server's clean-up: replaced by this one's below
        self._log = directory / "prometheus.log"
        args = [
            executable,
            f"--config.file={config}",
            f"--storage.tsdb.path={directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--storage.tsdb.retention.time=1d",
            *(f"--enable-feature={feature}" for feature in self.features),
        ]
        with self._log.open("ab") as output:
            self.process = start_process(args, output)
        # Runs on stop(), on garbage collection, or at interpreter exit, whichever comes first.
        self._stopper = weakref.finalize(self, stop_process, self.process, 10.0, directory)
        problem = wait_until(lambda: http_request(f"{self.url}/-/ready", timeout=1)[0] == 200, timeout, self.process)
        if problem:
            log_tail = self._log_tail()
            self.stop()
            raise PrometheusFailed(f"Prometheus on 127.0.0.1:{self.port} {problem}; last lines of its log:\n{log_tail}")
        return self

    def query(self, promql: str) -> list[dict[str, Any]]:
        """The result vector of an instant query (each item has `metric` labels and `value` [time, "number"])."""
        status, body = http_request(f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}")
        answer = json.loads(body)
        if status != 200 or answer.get("status") != "success":
            raise PrometheusFailed(f"query {promql!r}: HTTP {status}: {answer.get('error', body[:200])}")
        return answer["data"]["result"]

    def wait_for_scrape(self, timeout: float = 20.0) -> None:
        """Wait until every target's `up` series is 1, i.e. Prometheus has scraped each at least once.

        Prometheus 2.x applies new targets on a 5 s tick, so the first scrape comes 5-6 s after start.
        """
        assert self.process is not None, "start() first"
        query = f'up{{job="{self.job}"}}'

        def all_up() -> bool:
            up = {item["metric"].get("instance"): item["value"][1] for item in self.query(query)}
            return all(up.get(target) == "1" for target in self.targets)

        problem = wait_until(all_up, timeout, self.process)
        if problem:
            raise PrometheusFailed(
                f"Prometheus did not scrape {', '.join(self.targets)} successfully: {problem}; "
                f"up = {self.query(query) if self.process.poll() is None else 'n/a'}; last lines of its log:\n"
                f"{self._log_tail()}"
            )

    def crash(self) -> None:
        """SIGKILL Prometheus and keep its port and TSDB, so `start()` brings the same server back (fault tests)."""
        assert self.process is not None and self._directory is not None, "start() first"
        if self._stopper is not None:
            self._stopper.detach()
        self.process.kill()
        self.process.wait()
        self.process = None
        self._stopper = weakref.finalize(self, shutil.rmtree, self._directory, True)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s; removes the config, TSDB and log. Safe to call twice."""
        if self._stopper is not None:
            self._stopper()

    def __enter__(self) -> "ManagedPrometheus":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _config(self, timeout: str) -> str:
        # JSON is valid YAML, so the config needs no YAML library and no quoting rules.
        config = {
            "global": {
                "scrape_interval": self.scrape_interval,
                "evaluation_interval": self.scrape_interval,
                "scrape_timeout": timeout,
            },
            "scrape_configs": [{"job_name": self.job, "static_configs": [{"targets": self.targets}]}],
        }
        return json.dumps(config, indent=2) + "\n"

    def _log_tail(self) -> str:
        assert self._log is not None
        return tail(self._log)
