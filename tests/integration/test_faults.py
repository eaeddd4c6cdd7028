"""The fault matrix (docs/reliability.md): real processes, real faults, never a false GO, nothing measured lost.

Each test runs `slagate run` as a subprocess against the demo target and a real Prometheus on 127.0.0.1 with a
short load, injects one fault (a signal, a dead server, a full disk) and checks the exit code, the artifacts and
that no child process is left behind.
"""

import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import ROOT, demo_spec, needs_prometheus
from tests.integration.test_load_distributed import load_only
from validator import artifacts
from validator.demo.stack import demo_stack
from validator.net import free_port

pytestmark = [pytest.mark.integration, needs_prometheus]


@pytest.fixture(scope="module")
def stack():
    with demo_stack() as running:
        yield running


def start_run(
    tmp_path: Path, spec: Path, target: str, prometheus: str, *, limit_file_bytes: int | None = None
) -> subprocess.Popen[str]:
    """`slagate run` in the background with the target and Prometheus from the environment."""
    env = {**os.environ, "ENDPOINT": target, "PROMETHEUS_URL": prometheus}

    def limit() -> None:
        if limit_file_bytes is not None:  # a full disk: writes beyond this size fail with EFBIG
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_bytes, limit_file_bytes))

    command = [sys.executable, "-m", "validator.cli", "run", "--spec", str(spec), "--reports-dir", str(tmp_path / "r")]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=limit
    )


def finish(process: subprocess.Popen[str], timeout: float = 90) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=timeout)
    return process.returncode, stdout, stderr


def short_retries(spec: Path) -> Path:
    """The spec with `prometheus.retry_deadline = "5s"`: a dead Prometheus is given up on quickly."""
    text = spec.read_text()
    spec.write_text(text.replace("[prometheus]\n", '[prometheus]\nretry_deadline = "5s"\n', 1))
    return spec


def run_dir_of(tmp_path: Path) -> Path:
    runs = sorted(path for path in (tmp_path / "r").iterdir() if path.is_dir())
    assert len(runs) == 1, runs
    return runs[0]


def wait_for_load(process: subprocess.Popen[str], seconds: float) -> list[psutil.Process]:
    """Let the load run `seconds` past the start of its progress, then the process's children at that moment."""
    time.sleep(seconds)
    assert process.poll() is None, process.communicate()
    return psutil.Process(process.pid).children(recursive=True)


def assert_gone(children: list[psutil.Process]) -> None:
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"left behind: {[p.cmdline() for p in alive]}"


def assert_every_json_whole(run_dir: Path) -> None:
    for path in run_dir.rglob("*.json"):
        json.loads(path.read_text())  # a half-written file would not parse
    assert not list(run_dir.rglob(".*.tmp")), "a temporary file was left behind"


@pytest.mark.parametrize(("sent", "workers"), [(signal.SIGINT, 1), (signal.SIGTERM, 2)])
def test_a_signal_during_the_load_keeps_the_load_and_is_incomplete(tmp_path, stack, sent, workers) -> None:
    spec = demo_spec(tmp_path, f"workers = {workers}", duration="30s")
    process = start_run(tmp_path, spec, stack.target.url, stack.prometheus.url)
    children = wait_for_load(process, 9)
    started = time.time()
    process.send_signal(sent)
    code, stdout, stderr = finish(process, timeout=60)
    assert code == 5, stderr
    assert time.time() - started < 20, "the stop took longer than a grace period"
    run_dir = run_dir_of(tmp_path)
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert verdict["decision"] == "NO-GO" and verdict["exit_code"] == 5
    assert verdict["incomplete"].startswith(f"stopped by {signal.Signals(sent).name} during the load after")
    load = json.loads((run_dir / "load.json").read_text())
    assert load["interrupted"]["signal"] == signal.Signals(sent).name and load["interrupted"]["at_s"] < 29
    assert sum(e["requests"] for e in load["endpoints"].values()) > 100  # what was measured is kept
    report = (run_dir / "report.md").read_text()
    assert "## Verdict: **INCOMPLETE — NO-GO**" in report and "GO**" not in report.replace("NO-GO**", "")
    assert_every_json_whole(run_dir)
    assert_gone(children)


def test_a_second_ctrl_c_exits_at_once_without_corrupting_anything(tmp_path, stack) -> None:
    spec = demo_spec(tmp_path, "workers = 2", duration="30s")
    process = start_run(tmp_path, spec, stack.target.url, stack.prometheus.url)
    children = wait_for_load(process, 9)
    started = time.time()
    process.send_signal(signal.SIGINT)
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    code, _, stderr = finish(process, timeout=30)
    assert code == 5, stderr
    assert time.time() - started < 12
    assert_every_json_whole(run_dir_of(tmp_path))
    assert_gone(children)


def test_prometheus_down_before_the_run_is_exit_4_before_any_load(tmp_path, stack) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    process = start_run(tmp_path, demo_spec(tmp_path), stack.target.url, dead)
    code, _, stderr = finish(process, timeout=30)
    assert code == 4
    errors = [line for line in stderr.splitlines() if line.startswith("slagate: error:")]
    assert len(errors) == 1 and dead in errors[0], stderr
    assert "Traceback" not in stderr
    run_dir = run_dir_of(tmp_path)
    assert not (run_dir / "load.json").exists()  # no load was sent
    assert json.loads((run_dir / "verdict.json").read_text())["decision"] == "NO-GO"


def test_target_down_before_the_run_is_no_go_without_nan(tmp_path, stack) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    process = start_run(tmp_path, demo_spec(tmp_path), dead, stack.prometheus.url)
    code, _, stderr = finish(process, timeout=30)
    assert code == 4 and "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("slagate: error:")]
    assert len(errors) == 1 and "target" in errors[0] and dead.rsplit(":", 1)[1] in errors[0], stderr
    run_dir = run_dir_of(tmp_path)
    assert json.loads((run_dir / "verdict.json").read_text())["decision"] == "NO-GO"
    for name in ("report.md", "verdict.json"):
        assert "NaN" not in (run_dir / name).read_text() and "nan" not in (run_dir / name).read_text().split()


def test_prometheus_killed_during_the_load_keeps_the_load_and_is_exit_4(tmp_path) -> None:
    with demo_stack() as own:
        spec = short_retries(demo_spec(tmp_path, duration="10s"))
        process = start_run(tmp_path, spec, own.target.url, own.prometheus.url)
        wait_for_load(process, 5)
        own.prometheus.crash()
        code, _, stderr = finish(process, timeout=90)
        assert code == 4, stderr
        run_dir = run_dir_of(tmp_path)
        load = artifacts.read_json(run_dir / "load.json", "load")
        assert sum(e["requests"] for e in load["endpoints"].values()) > 100
        verdict = json.loads((run_dir / "verdict.json").read_text())
        assert verdict["decision"] == "NO-GO" and verdict["could_not_evaluate"]

        kept = (run_dir / "load.json").read_bytes()
        own.prometheus.start()  # back, with what it stored before the crash: the kept load is judged now
        env = {**os.environ, "ENDPOINT": own.target.url, "PROMETHEUS_URL": own.prometheus.url}
        again = subprocess.run([sys.executable, "-m", "validator.cli", "validate", str(run_dir), "--spec", str(spec)],
                               env=env, capture_output=True, text=True, timeout=90, check=False)
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert again.returncode in (1, 3) and verdict["could_not_evaluate"] is None, again.stderr
    assert "scrape gap" in again.stderr, again.stderr  # the seconds after the crash are missing, and said so
    assert (run_dir / "load.json").read_bytes() == kept, "validate must not rewrite the measured load"


def test_prometheus_restarted_mid_window_is_a_named_scrape_gap_never_go(tmp_path) -> None:
    with demo_stack() as own:
        process = start_run(tmp_path, demo_spec(tmp_path, duration="12s"), own.target.url, own.prometheus.url)
        wait_for_load(process, 6)
        own.prometheus.crash()
        own.prometheus.start()  # same port and TSDB; it scrapes again after its target-discovery tick
        code, _, stderr = finish(process, timeout=90)
    verdict = json.loads((run_dir_of(tmp_path) / "verdict.json").read_text())
    assert code in (1, 3) and verdict["decision"] != "GO", stderr
    assert any("scrape gap" in reason for reason in verdict["reasons"]), verdict["reasons"]


def test_a_full_disk_is_one_line_naming_the_file_and_leaves_nothing_half_written(tmp_path, stack) -> None:
    process = start_run(
        tmp_path, demo_spec(tmp_path, duration="6s"), stack.target.url, stack.prometheus.url, limit_file_bytes=20_000
    )
    code, _, stderr = finish(process, timeout=60)
    assert code == 4 and "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("slagate: error:")]
    assert len(errors) == 1 and "cannot write" in errors[0] and "load.json" in errors[0], stderr
    run_dir = run_dir_of(tmp_path)
    assert not (run_dir / "load.json").exists()
    assert_every_json_whole(run_dir)


def test_paths_with_spaces_work_through_run_validation_sh(tmp_path, stack) -> None:
    folder = tmp_path / "a folder with spaces"
    folder.mkdir()
    spec = demo_spec(folder, duration="6s")
    env = {**os.environ, "ENDPOINT": stack.target.url, "PROMETHEUS_URL": stack.prometheus.url}
    completed = subprocess.run(
        [str(ROOT / "run_validation.sh"), "--spec", str(spec), "--reports-dir", str(folder / "my reports")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode in (0, 3), completed.stderr
    (run_dir,) = [path for path in (folder / "my reports").iterdir() if path.is_dir()]
    assert (run_dir / "report.md").is_file()


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts connections and never answers: a target that hangs."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.held.append(connection)

    def close(self) -> None:
        self.socket.close()
        for connection in self.held:
            connection.close()


def test_requests_hanging_past_the_timeout_fail_and_count_at_their_timeout(tmp_path) -> None:
    server = SilentServer()
    try:
        load = load_only(tmp_path, 'users = 5\nduration = "6s"\nwarmup = "1s"\nrequest_timeout = "1s"', server.url)
    finally:
        server.close()
    steady = load.steady_timeline()
    assert steady.failures > 0 and steady.successes == 0
    latencies = steady.combined()
    assert 0.9 < latencies.quantile(0.5) / 1e6 < 1.6  # each timed-out request counted at about its timeout
    assert load.errors and all(group.count > 0 for group in load.errors)
    assert load.profile["request_timeout_s"] == 1.0


def test_a_target_killed_during_the_load_is_never_go_and_its_errors_are_timed(tmp_path) -> None:
    with demo_stack() as own:
        process = start_run(tmp_path, demo_spec(tmp_path, duration="12s"), own.target.url, own.prometheus.url)
        wait_for_load(process, 6)
        killed_at = time.time()
        own.target.process.kill()
        code, _, stderr = finish(process, timeout=120)
    assert code in (1, 4), stderr
    run_dir = run_dir_of(tmp_path)
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert verdict["decision"] == "NO-GO"
    success = next(gate for gate in verdict["gates"] if gate["name"] == "success rate")
    assert success["status"] == "FAIL", success  # the shipped spec judges it on both sides: the client saw the errors
    load = json.loads((run_dir / "load.json").read_text())
    after_kill = [group for group in load["errors"] if group["first_seen"] >= killed_at - 1]
    assert after_kill and sum(group["count"] for group in after_kill) > 10, load["errors"]
    report = (run_dir / "report.md").read_text()
    assert after_kill[0]["exception"][:20].replace("|", "\\|") in report  # the errors table says what and when
