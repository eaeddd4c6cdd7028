"""The demo stack on real parts: the demo target as a child process, a real Prometheus scraping it, urllib traffic.

Each Prometheus-backed test starts its own stack (about 6 s: Prometheus 2.x applies new scrape targets on a 5 s
tick), so exact counts are never disturbed by another test's requests.
"""

import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest

from tests.conftest import needs_prometheus
from validator.demo.processes import DemoTarget, http_request
from validator.demo.prometheus_server import ManagedPrometheus, PrometheusFailed, PrometheusNotFound
from validator.demo.stack import DemoStack, demo_stack
from validator.demo.target import ERROR_LABEL, ERROR_REGEX, LATENCY_METRIC, REQUEST_COUNTER, DemoSettings

pytestmark = pytest.mark.integration


# One of each simulated route, so every route's series is exercised.
REQUESTS = [("GET", "/api/items"), ("GET", "/api/items/42"), ("GET", "/api/search?q=red"), ("POST", "/api/orders")]
SETTINGS = DemoSettings(latency_median_ms=20.0, latency_sigma=0.5, seed=1)


@pytest.fixture()
def stack() -> Iterator[DemoStack]:
    with demo_stack(SETTINGS) as running:
        yield running


def send(url: str, count: int) -> list[int]:
    """Send `count` requests round-robin over the simulated routes, 20 at a time; their status codes."""

    def one(index: int) -> int:
        method, path = REQUESTS[index % len(REQUESTS)]
        return http_request(url + path, method, b"{}" if method == "POST" else None)[0]

    with ThreadPoolExecutor(max_workers=20) as pool:
        return list(pool.map(one, range(count)))


def value(prometheus: ManagedPrometheus, promql: str) -> float:
    """The single number an aggregating query returns."""
    (result,) = prometheus.query(promql)
    return float(result["value"][1])


def gone(pid: int) -> bool:
    return not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


@needs_prometheus
def test_prometheus_counts_every_request_and_sees_the_median(stack: DemoStack) -> None:
    codes = send(stack.target.url, 200)
    assert http_request(stack.target.url + "/no/such/path")[0] == 404
    assert codes == [200] * 200
    time.sleep(2.5)  # two scrapes at 1 s

    assert value(stack.prometheus, f"sum({REQUEST_COUNTER})") == 201
    assert value(stack.prometheus, f'sum({REQUEST_COUNTER}{{{ERROR_LABEL}="200"}})') == 200
    assert value(stack.prometheus, f'sum({REQUEST_COUNTER}{{{ERROR_LABEL}="404"}})') == 1
    assert value(stack.prometheus, f"sum({LATENCY_METRIC}_count)") == 200
    median = value(stack.prometheus, f"histogram_quantile(0.5, sum by (le) (rate({LATENCY_METRIC}_bucket[30s])))")
    # 200 lognormal draws (sigma 0.5) have a median within ~10 % of 20 ms; buckets add ≤ 5 %, the server ~1 ms.
    assert 0.016 < median < 0.026


@needs_prometheus
def test_configured_errors_are_served_and_counted(stack: DemoStack) -> None:
    assert stack.target.configure(error_rate=1.0) == SETTINGS.with_changes({"error_rate": 1.0})
    assert stack.target.settings().error_rate == 1.0
    assert send(stack.target.url, 40) == [500] * 40
    stack.target.configure(error_rate=0.0)
    assert send(stack.target.url, 10) == [200] * 10
    time.sleep(2.5)

    assert value(stack.prometheus, f'sum({REQUEST_COUNTER}{{{ERROR_LABEL}=~"{ERROR_REGEX}"}})') == 40
    assert value(stack.prometheus, f"sum({REQUEST_COUNTER})") == 50


@needs_prometheus
def test_no_process_outlives_the_stack_even_on_errors() -> None:
    with pytest.raises(KeyError), demo_stack() as running:
        pids = [running.target.process.pid, running.prometheus.process.pid]
        assert not any(gone(pid) for pid in pids)
        raise KeyError("boom")
    assert all(gone(pid) for pid in pids)
    assert running.target.process.returncode is not None and running.prometheus.process.returncode is not None


@needs_prometheus
def test_prometheus_that_cannot_start_reports_its_log_and_leaves_nothing() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        prometheus = ManagedPrometheus(["127.0.0.1:9"], port=taken.getsockname()[1])
        with pytest.raises(PrometheusFailed, match="(?s)exited with status.*address already in use"):
            prometheus.start()
    assert prometheus.process is not None and prometheus.process.returncode is not None


def test_missing_prometheus_says_how_to_install_it() -> None:
    with pytest.raises(PrometheusNotFound, match="apt-get install -y prometheus"):
        ManagedPrometheus(["127.0.0.1:9"], binary="/nonexistent/prometheus").start()


def test_target_starts_with_given_settings_and_rejects_bad_changes() -> None:
    settings = DemoSettings(latency_median_ms=5.0, slow_fraction=0.1, slow_ms=50.0, error_rate=0.25, seed=7)
    with DemoTarget(settings) as target:
        assert target.settings() == settings
        assert http_request(target.url + "/healthz")[0] == 200
        assert http_request(target.url + "/api/items/1/extra")[0] == 404
        with pytest.raises(ValueError, match="unknown setting"):
            target.configure(latency_median=3)
        with pytest.raises(ValueError, match="error_rate must be in"):
            target.configure(error_rate=2)
        assert target.configure(latency_multiplier=2) == settings.with_changes({"latency_multiplier": 2.0})
        pid = target.process.pid
    assert gone(pid)
