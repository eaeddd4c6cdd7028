"""`slagate init` against real instrumentations scraped by a real Prometheus, each after a little real traffic:
the demo target (prometheus_client, no preset), a Flask app under prometheus-flask-exporter and a FastAPI app
under prometheus-fastapi-instrumentator (their presets), Prometheus's own HTTP metrics (its preset), and the Go
service's native histogram. The written spec and locustfile, unedited but for a path, run to an honest verdict
under real Locust load: no gate without data and no measurement warning."""

import json
import os
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import needs_prometheus
from tests.integration.third_party import prometheus, python_app, wait_scraped
from validator.demo import native
from validator.demo.prometheus_server import ManagedPrometheus
from validator.demo.stack import demo_stack
from validator.demo.target import DemoSettings
from validator.net import free_port

pytestmark = [pytest.mark.integration, needs_prometheus]


def traffic(url: str, paths: list[str]) -> None:
    for path in paths * 20:
        urllib.request.urlopen(url + path, timeout=5).read()
    time.sleep(2.5)  # two scrapes at 1 s


def init_only(tmp_path: Path, prometheus_url: str, selector: str, target: str) -> Path:
    """`slagate init` into tmp_path: the spec's path (the locustfile beside it)."""
    spec = tmp_path / "sla.toml"
    made = subprocess.run([sys.executable, "-m", "validator.cli", "init", "--prometheus", prometheus_url,
                           "--selector", selector, "--target", target, "--duration", "14s", "-o", str(spec)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert made.returncode == 0, made.stderr
    return spec


def init_and_run(tmp_path: Path, prometheus_url: str, selector: str, target: str,
                 spec: Path | None = None) -> tuple[dict, str, dict]:
    """`slagate init` (unless `spec` was written already) then `slagate run` on what it wrote; (the spec as TOML,
    the locustfile, verdict.json)."""
    env = {**os.environ, "ENDPOINT": target, "PROMETHEUS_URL": prometheus_url}
    spec = spec or init_only(tmp_path, prometheus_url, selector, target)
    ran = subprocess.run([sys.executable, "-m", "validator.cli", "run", "--spec", str(spec), "--reports-dir",
                          str(tmp_path / "reports")], capture_output=True, text=True, timeout=120, check=False, env=env)
    (run_dir,) = [p for p in (tmp_path / "reports").iterdir() if p.is_dir()]
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert ran.returncode in (0, 3), ran.stderr  # GO or CAUTION: an honest verdict on a healthy service
    assert all(gate["status"] != "NO_DATA" for gate in verdict["gates"]), verdict["gates"]
    assert verdict["measurement"]["warnings"] == [], verdict["measurement"]["warnings"]
    return tomllib.loads(spec.read_text()), (tmp_path / "locustfile.py").read_text(), verdict


def test_init_reads_the_demo_target_without_a_preset(tmp_path: Path) -> None:
    with demo_stack(DemoSettings()) as stack:
        traffic(stack.target.url, ["/api/items", "/api/items/7", "/api/search"])
        written, locustfile, _ = init_and_run(tmp_path, stack.prometheus.url, 'job="demo"', stack.target.url)
    reading = written["prometheus"]
    assert "preset" not in reading and reading["latency_histogram"] == "slagate_demo_request_duration_seconds"
    assert (reading["request_counter"], reading["error_label"], reading["route_label"]) == (
        "slagate_demo_requests_total", "code", "path")
    assert reading["scrape_interval"] == "1s"
    assert 'self.client.get("/api/items/1", name="/api/items/{id}")' in locustfile
    assert "# TODO: /api/items/{id} has path parameters" in locustfile
    assert "# TODO: /api/orders answered no 2xx" in locustfile  # POST only: a GET would only count 404s


def test_init_names_the_flask_exporter_preset(tmp_path: Path) -> None:
    with python_app(tmp_path, "flask-exporter", "waitress") as target, prometheus(tmp_path, target, "reports") as port:
        url = f"http://127.0.0.1:{port}"
        wait_scraped(url)
        traffic(target, ["/api/items", "/api/report"])
        written, locustfile, verdict = init_and_run(tmp_path, url, 'job="reports"', target)
    assert written["prometheus"]["preset"] == "flask-exporter"
    assert '"/api/items"' in locustfile and '"/api/report"' in locustfile
    assert any(gate["name"] == "success rate" and gate["status"] == "PASS" for gate in verdict["gates"])


def test_init_names_the_fastapi_instrumentator_preset(tmp_path: Path) -> None:
    with python_app(tmp_path, "fastapi-instrumentator", "uvicorn") as target, \
            prometheus(tmp_path, target, "api") as port:
        url = f"http://127.0.0.1:{port}"
        wait_scraped(url)
        traffic(target, ["/api/items", "/api/checkout"])
        written, locustfile, _ = init_and_run(tmp_path, url, 'job="api"', target)
    assert written["prometheus"]["preset"] == "fastapi-instrumentator"
    assert 'error_regex = "5.."        # `status` took 2xx' in (tmp_path / "sla.toml").read_text()
    assert '"/api/items"' in locustfile and '"/api/checkout"' in locustfile


def test_init_reads_prometheus_own_http_metrics(tmp_path: Path) -> None:
    port = free_port()
    with ManagedPrometheus([f"127.0.0.1:{port}"], port=port, job="prometheus") as server:
        server.wait_for_scrape()
        traffic(server.url, ["/api/v1/query?query=up", "/api/v1/status/buildinfo"])
        made = init_only(tmp_path, server.url, 'job="prometheus"', server.url)
        assert tomllib.loads(made.read_text())["prometheus"]["preset"] == "prometheus-server"
        locustfile = tmp_path / "locustfile.py"  # a path edit: the query API needs its parameter
        locustfile.write_text(locustfile.read_text().replace('get("/api/v1/query"', 'get("/api/v1/query?query=up"'))
        _, _, verdict = init_and_run(tmp_path, server.url, 'job="prometheus"', server.url, spec=made)
    assert any(gate["name"] == "success rate" and gate["status"] == "PASS" for gate in verdict["gates"])


@pytest.mark.skipif(native.missing() is not None, reason=str(native.missing()))
def test_init_finds_a_native_histogram(tmp_path: Path) -> None:
    binary = native.build(tmp_path)
    with native.NativeService(binary) as service, ManagedPrometheus(
        [service.address], job="native", features=("native-histograms",)
    ) as server:
        server.wait_for_scrape()
        traffic(service.url, ["/api/items"])
        written, locustfile, verdict = init_and_run(tmp_path, server.url, 'job="native"', service.url)
    assert written["prometheus"]["histogram"] == "native"
    assert written["prometheus"]["latency_histogram"] == native.LATENCY_METRIC
    assert '"/api/items"' in locustfile or 'get("/")' in locustfile
    p99 = next(gate for gate in verdict["gates"] if gate["name"] == "p99 latency")
    assert "(native histogram)" in p99["source"]
