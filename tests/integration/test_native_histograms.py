"""Native histograms on real parts: a Go service built here with Debian's client_golang exposes its latency as a
native histogram (factor 1.1), a real Prometheus 2.42 with `--enable-feature=native-histograms` scrapes it, and
`slagate check`, `run` (real Locust load), `rules` and `dashboard` read it."""

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import needs_prometheus
from validator.demo import native
from validator.demo.processes import http_request
from validator.demo.prometheus_server import ManagedPrometheus

pytestmark = [
    pytest.mark.integration,
    needs_prometheus,
    pytest.mark.skipif(native.missing() is not None, reason=str(native.missing())),
]

GATES = """
[[gates]]
name = "p99 latency"
metric = "latency_p99"
max = "250ms"
[[gates]]
name = "median latency"
metric = "latency_p50"
max = "100ms"
[[gates]]
name = "success rate"
metric = "success_rate"
min = "99%"
"""


@pytest.fixture(scope="module")
def binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return native.build(tmp_path_factory.mktemp("native-build"))


def spec_file(tmp_path: Path, histogram: str = "native") -> Path:
    return native.write_spec(tmp_path, histogram, GATES)


def served(service: native.NativeService) -> None:
    """A few requests, then two scrapes: a labelled histogram has no series before its first observation."""
    for _ in range(20):
        http_request(service.url + "/api/items")
    time.sleep(2.5)


def slagate(*args: str, service: native.NativeService, prometheus: ManagedPrometheus) -> subprocess.CompletedProcess:
    env = {**os.environ, "ENDPOINT": service.url, "PROMETHEUS_URL": prometheus.url}
    return subprocess.run([sys.executable, "-m", "validator.cli", *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False)


def test_a_native_histogram_is_read_checked_and_judged(tmp_path: Path, binary: Path) -> None:
    spec = spec_file(tmp_path)
    with native.NativeService(binary) as service, ManagedPrometheus([service.address], job="native",
                                                                     features=("native-histograms",)) as prometheus:
        prometheus.wait_for_scrape()
        served(service)
        checked = slagate("check", "--spec", str(spec), service=service, prometheus=prometheus)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert 'native_request_duration_seconds{job="native"}: native histogram' in checked.stdout
        ran = slagate("run", "--spec", str(spec), "--reports-dir", str(tmp_path / "reports"), service=service,
                      prometheus=prometheus)
        rules = slagate("rules", "--spec", str(spec), "-o", str(tmp_path / "rules.yml"), service=service,
                        prometheus=prometheus)
        groups = yaml.safe_load((tmp_path / "rules.yml").read_text())["groups"]
        recorded = [r["expr"] for g in groups for r in g["rules"] if "record" in r and "histogram_quantile(0.99" in
                    r["expr"]]
        answers = [prometheus.query(expr) for expr in recorded]
    assert ran.returncode == 0, ran.stderr  # GO: every gate PASSes on the native buckets
    (run_dir,) = [p for p in (tmp_path / "reports").iterdir() if p.is_dir()]
    verdict = json.loads((run_dir / "verdict.json").read_text())
    p99 = next(g for g in verdict["gates"] if g["name"] == "p99 latency")
    measured = p99["measured"]
    assert 0.02 < measured["low"] <= measured["estimate"] <= measured["high"] < 0.25  # the p99 is about 64 ms
    assert "(native histogram)" in p99["source"]
    assert not verdict["measurement"]["runs"][0]["reconciliation"]["flagged"]
    assert (run_dir / "chart-latency.png").is_file()
    assert rules.returncode == 0, rules.stderr
    assert "native_request_duration_seconds_bucket" not in (tmp_path / "rules.yml").read_text()
    assert recorded and all(a and math.isfinite(float(a[0]["value"][1])) for a in answers), (recorded, answers)


def test_both_forms_scraped_with_only_native_kept_are_named_by_the_check(tmp_path: Path, binary: Path) -> None:
    spec = spec_file(tmp_path, histogram="classic")
    with native.NativeService(binary, classic=True) as service, ManagedPrometheus(
        [service.address], job="native", features=("native-histograms",)
    ) as prometheus:
        prometheus.wait_for_scrape()
        served(service)
        checked = slagate("check", "--spec", str(spec), service=service, prometheus=prometheus)
    assert checked.returncode == 2, checked.stdout + checked.stderr
    assert ("PROBLEM prometheus.histogram: native_request_duration_seconds has series under the selector but no "
            "native_request_duration_seconds_bucket: Prometheus keeps it as a native histogram only; set "
            'prometheus.histogram = "native"') in checked.stdout
