"""Issue 3 on real parts: Locust master + worker processes over loopback, a lost worker, the open model, saturation.

Loads are short (6-12 s) against the demo target on 127.0.0.1. Runs that need a verdict go through
`slagate run --demo` (real Prometheus); load-only runs call `run_load` in a child process, so this
test process is never monkey-patched by Locust.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import LOCUSTFILE, demo_spec, needs_prometheus, write_spec
from validator.demo.processes import DemoTarget
from validator.load.result import LoadResult
from validator.measure.checks import CPU_SATURATED_PERCENT, check_run
from validator.net import free_port

pytestmark = pytest.mark.integration

RUN_LOAD = """
import sys
from pathlib import Path
from validator.load.runner import run_load
from validator.spec import load_spec
spec = load_spec(sys.argv[1], environ={})
run_load(spec.load, sys.argv[2]).write(Path(sys.argv[3]))
"""


def slagate(*args: str, **popen: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "validator.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,  # type: ignore[arg-type]
    )


def only_run_dir(reports: Path) -> Path:
    run_dirs = sorted(path for path in reports.iterdir() if path.is_dir())
    assert len(run_dirs) == 1
    return run_dirs[0]


def load_only(tmp_path: Path, load_lines: str, target_url: str, locustfile: Path = LOCUSTFILE) -> LoadResult:
    """Run just the load stage in a child process and read its load.json."""
    spec = write_spec(tmp_path, load_lines, target=target_url, locustfile=locustfile, filename="load.toml")
    subprocess.run([sys.executable, "-c", RUN_LOAD, str(spec), target_url, str(tmp_path)], check=True, timeout=90)
    return LoadResult.read(tmp_path)


@needs_prometheus
def test_master_with_two_workers_over_loopback_merges_exact_counts(tmp_path: Path) -> None:
    """`slagate run --expect-workers 2`, a `slagate worker` and a plain `locust --worker` using the plugin."""
    port = free_port()
    reports = tmp_path / "reports"
    locustfile = tmp_path / "locustfile.py"  # the default scenario, plus the plugin import
    locustfile.write_text("import validator.load.plugin  # noqa: F401\n" + LOCUSTFILE.read_text())
    spec = demo_spec(tmp_path, duration="8s", locustfile=locustfile)
    master = slagate(
        "run", "--demo", "--spec", str(spec), "--reports-dir", str(reports),
        "--expect-workers", "2", "--master-bind", f"127.0.0.1:{port}",
    )  # fmt: skip
    plain_locust = [
        str(Path(sys.executable).with_name("locust")), "-f", str(locustfile), "--worker",
        "--master-host", "127.0.0.1", "--master-port", str(port),
    ]  # fmt: skip
    workers = [
        slagate("worker", "--master", f"127.0.0.1:{port}", "--locustfile", str(locustfile)),
        subprocess.Popen(plain_locust, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
    ]
    try:
        _, stderr = master.communicate(timeout=120)
        assert master.returncode in (0, 3), stderr  # 2 workers and another locustfile than the baseline's: CAUTION
        for worker in workers:
            _, worker_stderr = worker.communicate(timeout=30)
            assert worker.returncode == 0, worker_stderr
    finally:
        for process in (master, *workers):
            process.kill()
            process.communicate()
    load = LoadResult.read(only_run_dir(reports))
    assert load.locust_requests == load.captured_requests > 1000
    assert len(load.workers) == 2 and not load.lost_workers
    assert sum(w["requests_reported"] for w in load.workers) == load.captured_requests
    assert load.timeline.successes + load.timeline.failures == load.captured_requests
    assert sorted(load.health) == ["master", "worker 0", "worker 1"]


@needs_prometheus
def test_a_worker_that_connects_after_the_start_is_recorded_as_joined_late(tmp_path: Path) -> None:
    port = free_port()
    reports = tmp_path / "reports"
    spec = demo_spec(tmp_path, duration="10s")
    master = slagate(
        "run", "--demo", "--spec", str(spec), "--reports-dir", str(reports),
        "--expect-workers", "1", "--master-bind", f"127.0.0.1:{port}",
    )  # fmt: skip
    worker_args = ("worker", "--master", f"127.0.0.1:{port}", "--locustfile", str(LOCUSTFILE))
    workers = [slagate(*worker_args)]
    try:
        deadline = time.time() + 60
        while not any(path.glob("*/") for path in [reports] if reports.exists()) and time.time() < deadline:
            time.sleep(0.2)  # the run directory appears once the master has started
        time.sleep(5)  # well after the set-up: the load is running
        workers.append(slagate(*worker_args))
        _, stderr = master.communicate(timeout=120)
    finally:
        for process in (master, *workers):
            process.kill()
            process.communicate()
    verdict = json.loads((only_run_dir(reports) / "verdict.json").read_text())
    load = LoadResult.read(only_run_dir(reports))
    assert [w["joined_late"] for w in load.workers] == [False, True]
    late = load.workers[1]["locust_requests"]  # Locust rebalances users onto it; slagate never configured it
    assert late > 0 and load.captured_requests + late == load.locust_requests
    assert master.returncode != 0 and verdict["decision"] != "GO", stderr
    assert any(f"connected after the load started and sent {late} requests" in r for r in verdict["reasons"])
    assert not any("some reports were lost" in r for r in verdict["reasons"])


@needs_prometheus
def test_a_worker_killed_mid_run_is_reported_and_the_verdict_is_not_go(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    run = slagate("run", "--demo", "--spec", str(demo_spec(tmp_path, "workers = 2")), "--reports-dir", str(reports))
    victim = None
    deadline = time.time() + 60
    while victim is None and time.time() < deadline:  # kill one worker once it has run a few seconds
        workers = [
            p for p in psutil.Process(run.pid).children(recursive=True) if "validator.load.worker" in p.cmdline()
        ]
        if len(workers) == 2 and time.time() - workers[1].create_time() > 5:
            victim = workers[1]
            victim.kill()
        time.sleep(0.2)
    assert victim is not None, "the run never started two workers"
    stdout, stderr = run.communicate(timeout=120)
    run_dir = only_run_dir(reports)
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert run.returncode != 0 and verdict["decision"] != "GO", stdout
    lost = verdict["measurement"]["runs"][0]["lost_workers"]
    assert len(lost) == 1 and lost[0]["requests_reported"] > 0
    assert any("was lost" in reason for reason in verdict["reasons"])
    exits = [note for note in verdict["measurement"]["notes"] if "exited during the load" in note]
    assert len(exits) == 1 and f"pid {victim.pid} exited with status -9" in exits[0], verdict["measurement"]
    report = (run_dir / "report.md").read_text()
    assert "Load workers lost" in report and str(lost[0]["requests_reported"]) in report
    load = LoadResult.read(run_dir)
    assert load.captured_requests == load.locust_requests  # what did arrive is complete


STALL_S = 1.0
STALLING_LOCUSTFILE = f"""
import time
from locust import FastHttpUser, constant, task

STALL_AFTER_S = 3.5  # from this process's first task: inside the steady window (2 s warm-up)
first_task = None
stalled = False

class Stalling(FastHttpUser):
    wait_time = constant(0)

    @task
    def items(self):
        global first_task, stalled
        first_task = first_task or time.time()
        if not stalled and time.time() - first_task > STALL_AFTER_S:
            stalled = True
            end = time.perf_counter() + {STALL_S}
            while time.perf_counter() < end:  # blocks this generator's event loop: no send can leave
                pass
        self.client.get("/api/items")
"""


def test_open_model_holds_the_rate_and_its_corrected_latency_shows_a_generator_stall(tmp_path: Path) -> None:
    """Each generator process stalls once for STALL_S: the slots of that second leave late, afterwards.

    Latency from the intended send (corrected) must show the stall; latency from the actual send (raw)
    must not, since the target itself never slowed down. The timetable catches up, so the rate holds.
    """
    locustfile = tmp_path / "stalling.py"
    locustfile.write_text(STALLING_LOCUSTFILE)
    with DemoTarget() as target:
        load = load_only(
            tmp_path,
            'arrival_rate = "300/s"\narrival = "fixed"\nworkers = 2\nduration = "9s"\nwarmup = "2s"',
            target.url,
            locustfile,
        )
    steady = load.steady_timeline()
    achieved = (steady.successes + steady.failures) / load.window_seconds
    assert achieved == pytest.approx(300, rel=0.05)
    checks = check_run(load, {}, 2.0)
    open_model = checks.open_model
    assert open_model is not None
    assert any("open model timetable not kept" in w and "the generator fell behind" in w for w in checks.warnings)
    assert open_model["late_by_max_s"] > 0.8 * STALL_S, open_model
    assert open_model["corrected"]["p99"] > 0.5 * STALL_S, open_model  # ~14 % of the sends were held back
    assert open_model["raw"]["p99"] < 0.2 * STALL_S, open_model  # the demo target's p99 is about 65 ms
    assert load.captured_requests == load.locust_requests


BURNING_LOCUSTFILE = """
import time
from locust import FastHttpUser, constant, task

class Burner(FastHttpUser):
    wait_time = constant(0)

    @task
    def burn(self):
        self.client.get("/healthz")
        end = time.perf_counter() + 0.005
        while time.perf_counter() < end:  # CPU work in the generator, not in the target
            pass
"""


def test_a_saturated_generator_is_flagged(tmp_path: Path) -> None:
    locustfile = tmp_path / "burn.py"
    locustfile.write_text(BURNING_LOCUSTFILE)
    with DemoTarget() as target:
        load = load_only(tmp_path, 'users = 50\nduration = "7s"\nwarmup = "2s"', target.url, locustfile)
    checks = check_run(load, {}, 2.0)
    assert not checks.client_reliable
    assert any("saturated" in warning for warning in checks.warnings), checks.warnings
    # CPU is judged as a share of one core (a Locust process runs one Python thread), so a process pegging
    # its core is flagged whatever the machine's core count; a machine-wide share would stay below 100 / cores.
    saturated = [health for health in checks.health if health.saturated]
    assert saturated and max(h.cpu_max for h in saturated) >= CPU_SATURATED_PERCENT, (os.cpu_count(), saturated)
