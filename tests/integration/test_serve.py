"""`slagate serve` over real HTTP: Flagger's pre-rollout payload against a real `slagate serve` subprocess, the demo
target and a real Prometheus on 127.0.0.1, with 8- and 12-second loads.

Each exchange of the issue: GO → 200, latency ×2 → 412 with the reason, Prometheus down → 503, the same checksum
during and after a run (one load), another checksum during a run (409), malformed, oversized and unauthenticated
requests, and SIGTERM mid-run (503, the run INCOMPLETE).
"""

import contextlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.conftest import ROOT, demo_spec, needs_prometheus
from validator.demo.stack import DemoStack, demo_stack
from validator.net import free_port

pytestmark = [pytest.mark.integration, needs_prometheus]

HOOK = "/flagger/pre-rollout"
TOKEN = "s3cret-token-for-the-serve-test"


def payload(checksum: str, **metadata: str) -> bytes:
    """Flagger's documented webhook payload for canary test/podinfo."""
    return json.dumps({"name": "podinfo", "namespace": "test", "phase": "Progressing", "checksum": checksum,
                       "metadata": metadata}).encode()


class Served:
    """A running `slagate serve` subprocess and a client for it."""

    def __init__(self, process: subprocess.Popen[str], port: int, reports: Path) -> None:
        self.process, self.port, self.reports = process, port, reports
        self.stderr = ""  # what it printed, once stopped

    def call(self, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, str]:
        """One request on a fresh connection: the status and the body as text."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=90)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()

    def hook(self, checksum: str, **metadata: str) -> tuple[int, str]:
        return self.call("POST", HOOK, payload(checksum, **metadata), {"Content-Type": "application/json"})

    def in_background(self, checksum: str) -> tuple[threading.Thread, list[tuple[int, str]]]:
        """POST the hook in a thread; its answer lands in the returned list."""
        answers: list[tuple[int, str]] = []
        thread = threading.Thread(target=lambda: answers.append(self.hook(checksum)))
        thread.start()
        return thread, answers

    def runs(self) -> list[Path]:
        return sorted(path for path in self.reports.iterdir() if path.is_dir()) if self.reports.exists() else []

    def wait_for_run_start(self, seconds: float) -> None:
        """Wait until a run folder exists, then `seconds` more (the load is under way)."""
        deadline = time.time() + 30
        while not self.runs():
            assert time.time() < deadline and self.process.poll() is None, "no run started"
            time.sleep(0.1)
        time.sleep(seconds)


@contextlib.contextmanager
def serve(tmp_path: Path, *options: str, env: dict[str, str] | None = None) -> Iterator[Served]:
    """`slagate serve` on a free loopback port, ready (GET /healthz answers); SIGTERM and reaped on exit."""
    port = free_port()
    reports = tmp_path / "r"
    command = [sys.executable, "-m", "validator.cli", "serve", "--spec", str(tmp_path / "sla.toml"),
               "--listen", f"127.0.0.1:{port}", "--reports-dir", str(reports), *options]
    process = subprocess.Popen(command, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    served = Served(process, port, reports)
    try:
        deadline = time.time() + 60
        while True:
            assert process.poll() is None and time.time() < deadline, process.communicate()
            with contextlib.suppress(OSError):
                if served.call("GET", "/healthz") == (200, "ok\n"):
                    break
            time.sleep(0.2)
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        served.stderr = process.communicate(timeout=60)[1]


def spec_in(tmp_path: Path, duration: str = "8s") -> Path:
    """The demo spec with a short load, beside a copy of the demo's baselines (metadata may name 1.0.0)."""
    shutil.copytree(ROOT / "baselines/demo", tmp_path / "baselines/demo")
    return demo_spec(tmp_path, duration=duration)


def endpoints(stack: DemoStack, prometheus: str | None = None) -> dict[str, str]:
    return {"ENDPOINT": stack.target.url, "PROMETHEUS_URL": prometheus or stack.prometheus.url}


def metric(text: str, series: str) -> float:
    """A sample's value from a /metrics answer."""
    values = [line.rsplit(" ", 1)[1] for line in text.splitlines() if line.startswith(series + " ")]
    assert len(values) == 1, (series, text)
    return float(values[0])


@pytest.fixture(scope="module")
def stack() -> Iterator[DemoStack]:
    with demo_stack() as running:
        yield running


@pytest.fixture(scope="module")
def served(stack: DemoStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("serve")
    spec_in(folder, duration="12s")  # as test_pipeline's GO: 8 s leaves p99's interval wide enough for a CAUTION
    with serve(folder, env=endpoints(stack)) as running:
        yield running


def test_go_is_200_and_one_checksum_is_one_load_while_another_is_refused(served: Served) -> None:
    first, first_answer = served.in_background("6f1d2c0")
    served.wait_for_run_start(3)
    retry, retry_answer = served.in_background("6f1d2c0")  # Flagger's retry while the run is in progress
    status, busy = served.hook("9a8b7c6")  # another revision: never a second load at once
    assert status == 409 and "busy" in busy and "two loads never overlap" in busy and "9a8b7c6" in busy, busy
    first.join(60)
    retry.join(60)
    assert first_answer[0][0] == 200 and "verdict GO" in first_answer[0][1], first_answer
    assert retry_answer == first_answer
    assert served.hook("6f1d2c0") == first_answer[0]  # after the run: the same verdict, no new load
    runs = served.runs()
    assert len(runs) == 1, runs
    assert f"report {runs[0] / 'report.md'}" in first_answer[0][1]

    status, latest = served.call("GET", "/runs/latest?service=demo")
    assert status == 200 and json.loads(latest)["decision"] == "GO"
    status, by_id = served.call("GET", f"/runs/{runs[0].name}")
    assert status == 200 and by_id == latest
    status, metrics = served.call("GET", "/metrics")
    assert status == 200
    assert metric(metrics, 'slagate_serve_runs_total{decision="GO"}') == 1
    assert metric(metrics, "slagate_serve_run_duration_seconds_count") == 1
    assert metric(metrics, "slagate_serve_runs_in_progress") == 0


def test_latency_doubled_is_412_with_the_reason_against_the_baseline_metadata_names(
    served: Served, stack: DemoStack
) -> None:
    configure(stack, latency_multiplier=2.0)
    try:
        status, body = served.hook("7e2a9f1", baseline="1.0.0", version="1.2.0")
    finally:
        configure(stack, latency_multiplier=1.0)
    assert status == 412, body
    assert "verdict NO-GO" in body and "reason: critical gate 'p99 latency' is FAIL" in body, body
    assert "baselines/demo/1.0.0.json" in body and "report " in body
    verdict = json.loads(served.call("GET", "/runs/latest?service=demo")[1])
    assert verdict["decision"] == "NO-GO" and verdict["version"] == "1.2.0"


def configure(stack: DemoStack, **settings: float) -> None:
    """PUT /-/config on the demo target: its behaviour changes at once."""
    connection = http.client.HTTPConnection("127.0.0.1", int(stack.target.url.rsplit(":", 1)[1]), timeout=10)
    connection.request("PUT", "/-/config", body=json.dumps(settings))
    assert connection.getresponse().status == 200
    connection.close()


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "said"),
    [
        ("POST", HOOK, b'{"name": "podinfo", "namespace": ', 400, "malformed JSON"),
        ("POST", HOOK, b"[1, 2]", 400, "expected a JSON object"),
        ("POST", HOOK, b'{"name": "podinfo", "namespace": "test"}', 400, "checksum: expected"),
        ("POST", HOOK, payload("c1", baseline="../../etc/passwd"), 400, "metadata.baseline: expected letters"),
        ("POST", HOOK, payload("c1", cmd="rm -rf /"), 400, "metadata: unknown key 'cmd'"),
        ("POST", HOOK, payload("c1", baseline="9.9.9"), 400, "expected a recorded version of demo"),
        ("POST", HOOK, b"x" * (64 * 1024 + 1), 413, "at most 65536"),
        ("GET", HOOK, None, 405, "expected POST"),
        ("GET", "/nowhere", None, 404, "no such path"),
        ("GET", "/runs/..%2F..%2Fsla.toml", None, 404, "no run '../../sla.toml'"),
        ("GET", "/runs/20000101T000000Z-demo", None, 404, "no run"),
        ("GET", "/runs/latest?service=../etc", None, 400, "service: expected"),
        ("GET", "/runs/latest?service=other", None, 404, "no judged run of other"),
    ],
)
def test_a_bad_request_is_refused_in_one_line_and_starts_nothing(
    served: Served, method: str, path: str, body: bytes | None, status: int, said: str
) -> None:
    before = served.runs()
    answer = served.call(method, path, body)
    assert answer[0] == status and said in answer[1], answer
    assert answer[1].startswith("slagate: ") and answer[1].count("\n") == 1, answer
    assert served.runs() == before


def test_prometheus_down_is_503_and_a_retry_measures_again(tmp_path: Path, stack: DemoStack) -> None:
    spec = spec_in(tmp_path)
    spec.write_text(spec.read_text().replace("[prometheus]\n", '[prometheus]\nretry_deadline = "3s"\n', 1))
    with serve(tmp_path, env=endpoints(stack, f"http://127.0.0.1:{free_port()}")) as down:
        status, body = down.hook("1b2c3d4")
        assert status == 503 and "verdict NO-GO" in body and "could not evaluate" in body, body
        assert len(down.runs()) == 1
        verdict = json.loads((down.runs()[0] / "verdict.json").read_text())
        assert verdict["decision"] == "NO-GO" and verdict["exit_code"] == 4
        assert down.hook("1b2c3d4")[0] == 503  # nothing was judged: a retry tries again
        assert len(down.runs()) == 2
        metrics = down.call("GET", "/metrics")[1]
        assert metric(metrics, 'slagate_serve_runs_total{decision="COULD-NOT-EVALUATE"}') == 2


def test_a_token_is_asked_of_every_request_but_healthz(tmp_path: Path, stack: DemoStack) -> None:
    spec_in(tmp_path)
    env = {**endpoints(stack), "SLAGATE_TEST_TOKEN": TOKEN}
    with serve(tmp_path, "--token-env", "SLAGATE_TEST_TOKEN", env=env) as guarded:
        for method, path, body in (("POST", HOOK, payload("c1")), ("GET", "/metrics", None),
                                   ("GET", "/runs/latest", None)):
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
                status, text = guarded.call(method, path, body, headers)
                assert status == 401 and "Authorization: Bearer" in text, (path, headers, text)
        assert guarded.call("GET", "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})[0] == 200
        assert guarded.call("GET", "/healthz") == (200, "ok\n")
        assert guarded.runs() == []
    assert "SLAGATE_TEST_TOKEN" in guarded.stderr and TOKEN not in guarded.stderr


@pytest.mark.parametrize(
    ("options", "env", "said"),
    [
        (["--listen", "0.0.0.0:1"], {}, "not a loopback address; pass --token-env"),
        (["--listen", "0.0.0.0:1", "--unauthenticated", "--token-env", "SLAGATE_T"], {"SLAGATE_T": TOKEN},
         "--unauthenticated and --token-env: expected one of them"),
        (["--listen", "127.0.0.1:1", "--token-env", "SLAGATE_UNSET_TOKEN"], {}, "it is unset or empty"),
        (["--listen", "127.0.0.1:1", "--token-env", "SLAGATE_SHORT"], {"SLAGATE_SHORT": "short"}, "it is shorter"),
    ],
)
def test_serving_beyond_loopback_without_a_token_is_refused_before_listening(
    tmp_path: Path, options: list[str], env: dict[str, str], said: str
) -> None:
    demo_spec(tmp_path)
    environment = {k: v for k, v in os.environ.items() if k != "SLAGATE_UNSET_TOKEN"}
    done = subprocess.run([sys.executable, "-m", "validator.cli", "serve", "--spec", str(tmp_path / "sla.toml"),
                           *options], env={**environment, **env}, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 2 and said in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("slagate: error: --")


def test_sigterm_mid_run_answers_503_and_the_run_is_incomplete(tmp_path: Path) -> None:
    spec_in(tmp_path)
    with serve(tmp_path, "--demo") as demo:
        children = psutil.Process(demo.process.pid).children(recursive=True)
        pending, answer = demo.in_background("5d4c3b2")
        demo.wait_for_run_start(3)
        demo.process.send_signal(signal.SIGTERM)
        pending.join(60)
        assert demo.process.wait(60) == 5
    status, body = answer[0]
    assert status == 503 and "verdict NO-GO" in body and "stopped by SIGTERM during the load" in body, body
    (run,) = demo.runs()
    verdict = json.loads((run / "verdict.json").read_text())
    assert verdict["decision"] == "NO-GO" and verdict["exit_code"] == 5 and verdict["incomplete"]
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"left behind: {[p.cmdline() for p in alive]}"
