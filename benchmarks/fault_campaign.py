"""fault_campaign: random faults against real `slagate run`s, each outcome checked against what the fault allows.

Each trial is a short `slagate run` (6-10 s of load) as a subprocess against the demo target and a real Prometheus
(scrape interval 1 s) on 127.0.0.1. It draws one or two faults and the moments they strike, counted from the start
of the load: Prometheus killed, stopped (SIGSTOP, resumed later or never), restarted, slowed by a delaying proxy,
or paused for a scrape gap; the target killed, stopped or slowed; a burst of 500s from the target (its runtime
`error_rate`); a local worker killed (`workers = 2`); slagate sent SIGINT or SIGTERM; the reports folder out of
space (a small tmpfs filled at the moment; RLIMIT_FSIZE from the start where tmpfs cannot be mounted).

Every fault has an oracle, the exit codes it allows and whether GO is allowed. GO is allowed only when the fault
provably cannot have changed the measurement: it struck after Prometheus was queried or the verdict was written,
or it touched the steady window for less than slagate's documented tolerance (see HIT_S). Each trial counts a
false GO, a lost load.json (the load started, no fault prevented its write, and it is missing or unreadable), a
traceback in stdout or stderr, an exit code outside the oracle, a child of slagate alive 10 s after it exited,
and a secret (the target URL's password, plain, URL-decoded or in base64 `user:password`) in any file of the
reports folder, stdout, stderr, GITHUB_OUTPUT or GITHUB_STEP_SUMMARY.

    .venv/bin/python benchmarks/fault_campaign.py [--trials 40] [--seed 1] [--quick] [--json PATH]

--quick runs one trial per fault kind (moments and any second fault drawn). The last line is
`fault_campaign: <N> trials, <V> violations`; the exit status is 1 when V > 0, 2 when Prometheus is missing.
"""

import argparse
import base64
import contextlib
import dataclasses
import json
import math
import os
import random
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil

from validator.demo.processes import DemoTarget
from validator.demo.prometheus_server import ManagedPrometheus, PrometheusNotFound, find_prometheus

ROOT = Path(__file__).resolve().parents[1]
USER, PASSWORD = "campaign-user", "s3cr/t-pw"
QUOTED_PASSWORD = urllib.parse.quote(PASSWORD, safe="")
SECRETS = {
    "password in the URL": QUOTED_PASSWORD.encode(),
    "password": PASSWORD.encode(),
    "base64 user:password": base64.b64encode(f"{USER}:{PASSWORD}".encode()),
    "base64 user:password as in the URL": base64.b64encode(f"{USER}:{QUOTED_PASSWORD}".encode()),
}
KINDS = (
    "prom_kill", "prom_stop", "prom_restart", "prom_slow", "scrape_gap", "target_kill",
    "target_stop", "target_slow", "error_burst", "worker_kill", "signal", "disk_full",
)  # fmt: skip
ANY = frozenset({0, 1, 3, 4})  # what a run may end in when the fault cannot have changed the measurement
# The least overlap (s) of a fault's effect with the steady window that must keep the verdict from GO. Shorter
# touches may change a figure too little to tell (GO allowed):
HIT_S = {
    "target_kill": 0.5,  # refused connections fail at once: hundreds of client failures in half a second
    "error_burst": 1.0,  # >= 20 % of a second's requests fail: > 2 % of a window of at most 8 s (the gate: 99 %)
    "target_stop": 2.0,  # at least one failed scrape of the target inside the window (up = 0)
    "target_slow": 2.5,  # >= 1 % of the window's requests slowed: the client's p99 leaves the server's (factor 2)
    # Prometheus paused or down: >= 3 scrapes missing, what scope_checks calls a gap (JITTER_SCRAPES = 2)
    "prom_stop": 3.5,
    "scrape_gap": 3.5,
    "prom_restart": 3.5,
}
HIT_CODES = {"target_kill": frozenset({1, 4}), "error_burst": frozenset({1, 3})}  # others: {1, 3, 4}
ON_PROMETHEUS = ("prom_kill", "prom_stop", "prom_restart", "scrape_gap")  # faults that need a live process
ON_TARGET = ("target_kill", "target_stop", "error_burst")
RESTART_SCRAPE_S = 6.0  # a restarted Prometheus 2.x scrapes again on its 5 s target-discovery tick
CORE_ARTIFACTS = ("load.json", "metrics.json", "verdict.json", "junit.xml", "report.md")
TRIAL_TIMEOUT_S = 150.0
LOAD_LINE = re.compile(r"^slagate: load (\d+)/")


@dataclasses.dataclass
class Fault:
    """One fault of a trial: what, when (s after the load started), for how long (None: until the run ends)."""

    kind: str
    at: float
    hold: float | None = None
    detail: dict[str, Any] = dataclasses.field(default_factory=dict)
    struck: float | None = None  # epoch seconds it was applied; None when the run ended first
    ended: float | None = None  # epoch seconds its effect ended; None: lasted until the run ended


@dataclasses.dataclass
class Plan:
    """One trial as drawn: its load and its faults."""

    number: int
    duration: int
    workers: int
    faults: list[Fault]


def draw_fault(kind: str, rng: random.Random, duration: int) -> Fault:
    """A fault of `kind` striking somewhere in the load or in the seconds after it (queries, rendering); not in
    its first second, which ends before the first progress line tells the campaign that the load started."""
    fault = Fault(kind, round(rng.uniform(1.0, duration + 3.0), 2))
    if kind in ("prom_stop", "target_stop"):  # a hang, resumed later or never (until the run ends)
        fault.hold = rng.choice([None, round(rng.uniform(6, 15) if kind == "prom_stop" else rng.uniform(2, 6), 2)])
    elif kind == "scrape_gap":
        fault.hold = round(rng.uniform(3, 6), 2)
    elif kind == "prom_slow":  # sometimes past the 3 s query timeout
        fault.detail["delay_s"] = rng.choice([round(rng.uniform(0.2, 2.0), 2), 4.0])
    elif kind == "target_slow":
        fault.detail["delay_s"] = round(rng.uniform(0.1, 0.4), 2)
        fault.hold = rng.choice([None, round(rng.uniform(3, 6), 2)])
    elif kind == "error_burst":
        fault.detail["error_rate"] = round(rng.uniform(0.2, 0.5), 2)
        fault.hold = round(rng.uniform(1, 3), 2)
    elif kind == "worker_kill":
        fault.at = round(rng.uniform(1.0, duration + 1.0), 2)
    elif kind == "signal":
        fault.detail["signal"] = rng.choice(["SIGINT", "SIGTERM"])
    elif kind == "disk_full":
        fault.detail["rlimit_bytes"] = rng.randint(20_000, 2_000_000)  # used only where tmpfs cannot be mounted
    return fault


def draw_plans(trials: int, seed: int, quick: bool) -> list[Plan]:
    """Every trial's load and faults, drawn up front from one seeded generator; --quick: one trial per kind."""
    rng = random.Random(seed)
    plans = []
    for number in range(len(KINDS) if quick else trials):
        duration = rng.randint(6, 8 if quick else 10)
        first = KINDS[number] if quick else rng.choice(KINDS)
        kinds = [first] + ([rng.choice([k for k in KINDS if k != first])] if rng.random() < 0.3 else [])
        workers = 2 if "worker_kill" in kinds or rng.random() < 0.25 else 1
        plans.append(Plan(number, duration, workers, [draw_fault(kind, rng, duration) for kind in kinds]))
    return plans


class DelayProxy:
    """A TCP proxy on 127.0.0.1 to `upstream` that holds each chunk `delay` seconds while set: a slow link."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.delay = 0.0
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        """Pair each client with a fresh upstream connection, a pump thread each way."""
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:  # closed
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream), timeout=5)
            except OSError:  # the upstream is down: the client sees its connection closed
                client.close()
                continue
            upstream.settimeout(None)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        """Copy source to sink, each chunk held `delay` seconds; either side's end hangs up both."""
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                if self.delay:
                    time.sleep(self.delay)
                sink.sendall(chunk)
        _hang_up(source, sink)

    def close(self) -> None:
        """Stop accepting; connections in flight end with their peers."""
        _hang_up(self.server)


def _hang_up(*sockets: socket.socket) -> None:
    """Shut down (which wakes a thread blocked on the socket, as close alone does not) and close."""
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()


class Lab:
    """The demo target and Prometheus shared by the trials; `restore` brings back whatever a fault destroyed."""

    def __init__(self) -> None:
        self.target = DemoTarget().start()
        self.prometheus = ManagedPrometheus([self.target.address], "1s").start()
        self.restore()

    def restore(self) -> None:
        """Both running, resumed, no errors configured, and a scrape of the target taken after this call."""
        since = time.time()
        for process in (self.target.process, self.prometheus.process):
            if process is not None and process.poll() is None:
                os.kill(process.pid, signal.SIGCONT)
        assert self.target.process is not None
        if self.target.process.poll() is not None:
            self.target.stop()
            self.target = DemoTarget(port=self.target.port).start()
        self.target.configure(error_rate=0.0)
        if self.prometheus.process is not None and self.prometheus.process.poll() is not None:
            self.prometheus.crash()
        if self.prometheus.process is None:
            self.prometheus.start()
        deadline = time.monotonic() + 30
        query = f'timestamp(up{{job="{self.prometheus.job}"}} == 1)'
        while not any(float(item["value"][1]) >= since for item in self.prometheus.query(query)):
            if time.monotonic() > deadline:
                raise RuntimeError(f"Prometheus did not scrape the demo target again within 30 s ({query})")
            time.sleep(0.2)

    def close(self) -> None:
        """Stop both (resumed first, so that SIGTERM is seen)."""
        for process in (self.target.process, self.prometheus.process):
            if process is not None and process.poll() is None:
                os.kill(process.pid, signal.SIGCONT)
        self.prometheus.stop()
        self.target.stop()


def tmpfs_mountable(folder: Path) -> bool:
    """Whether this process may mount a tmpfs (root, outside a restricted container): the real full disk."""
    probe = folder / "tmpfs-probe"
    probe.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe)], capture_output=True).returncode:
        return False
    subprocess.run(["umount", str(probe)], check=True)
    return True


def fill(folder: Path) -> None:
    """Take every free byte of the file system holding `folder`: later writes there fail with ENOSPC."""
    with contextlib.suppress(OSError), (folder / "filler").open("wb", buffering=0) as filler:
        for size in (1 << 20, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    filler.write(b"\0" * size)


def spec_text(duration: int, workers: int) -> str:
    """The shipped demo spec for a short load (2 s warm-up) with absolute paths and short Prometheus deadlines."""
    text = (ROOT / "sla.toml").read_text()
    replacements = {
        'duration = "30s"': f'duration = "{duration}s"',
        'warmup = "5s"': 'warmup = "2s"',
        '"loadtests/locustfile.py"': json.dumps(str(ROOT / "loadtests/locustfile.py")) + f"\nworkers = {workers}",
        '"baselines/demo/1.0.0.json"': json.dumps(str(ROOT / "baselines/demo/1.0.0.json"))
        + '\ntolerance = "80%"  # short loads against the 30 s demo baseline, as in the tests',
        '"checklists/production-readiness.md.j2"': json.dumps(str(ROOT / "checklists/production-readiness.md.j2")),
        'timeout = "10s"': 'timeout = "3s"',  # a hung Prometheus is given up on quickly ...
        "[prometheus]\n": '[prometheus]\nretry_deadline = "5s"\n',  # ... and so is a dead one
    }
    for old, new in replacements.items():
        if old not in text:
            raise SystemExit(f"fault_campaign: the shipped sla.toml no longer has {old!r}")
        text = text.replace(old, new, 1)
    return text


@dataclasses.dataclass
class Run:
    """What one `slagate run` did, as seen from outside."""

    code: int | None  # None: it did not exit within TRIAL_TIMEOUT_S and was killed
    stdout: str
    stderr: str
    load_started: float | None  # epoch seconds, from the first progress line
    exited: float
    children: list[psutil.Process]
    reports: Path


class Trial:
    """One planned trial on the lab: start slagate, strike the faults on time, record what happened."""

    def __init__(self, plan: Plan, lab: Lab, folder: Path, tmpfs: bool) -> None:
        self.plan, self.lab, self.folder, self.tmpfs = plan, lab, folder, tmpfs
        self.kinds = {fault.kind for fault in plan.faults}
        for fault in plan.faults:
            if fault.kind == "disk_full" and tmpfs:
                del fault.detail["rlimit_bytes"]  # a real full disk at the fault's moment instead
        self.target_proxy = DelayProxy(lab.target.port) if "target_slow" in self.kinds else None
        self.prometheus_proxy = DelayProxy(lab.prometheus.port) if "prom_slow" in self.kinds else None
        self.process: subprocess.Popen[str] | None = None
        self.disk = folder / "disk"

    def run(self) -> Run:
        """Run slagate with the faults; every fault's effect is undone before this returns."""
        spec = self.folder / "sla.toml"
        spec.write_text(spec_text(self.plan.duration, self.plan.workers))
        self.disk.mkdir()
        mounted = "disk_full" in self.kinds and self.tmpfs
        if mounted:
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(self.disk)], check=True)
        try:
            return self._run(spec)
        finally:
            for proxy in (self.target_proxy, self.prometheus_proxy):
                if proxy is not None:
                    proxy.close()

    def unmount(self) -> None:
        """Release the trial's tmpfs, if it had one."""
        if "disk_full" in self.kinds and self.tmpfs:
            subprocess.run(["umount", "--lazy", str(self.disk)], check=True)

    def _run(self, spec: Path) -> Run:
        """Start slagate with credentials in ENDPOINT, time its load from its progress lines, strike, wait, undo."""
        target_port = self.target_proxy.port if self.target_proxy else self.lab.target.port
        prometheus_url = f"http://127.0.0.1:{self.prometheus_proxy.port}" if self.prometheus_proxy else None
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",  # progress lines arrive when written: the load's start is timed by them
            "ENDPOINT": f"http://{USER}:{QUOTED_PASSWORD}@127.0.0.1:{target_port}",
            "PROMETHEUS_URL": prometheus_url or self.lab.prometheus.url,
            "GITHUB_OUTPUT": str(self.folder / "github-output"),
            "GITHUB_STEP_SUMMARY": str(self.folder / "github-step-summary"),
        }
        limit = next((f.detail.get("rlimit_bytes") for f in self.plan.faults if f.kind == "disk_full"), None)

        def limit_files() -> None:
            """In the child before exec: the RLIMIT_FSIZE full disk, where tmpfs cannot be mounted."""
            if limit is not None:  # a full disk: writes beyond this size fail with EFBIG
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        command = [sys.executable, "-m", "validator.cli", "run", "--spec", str(spec), "--reports-dir",
                   str(self.disk / "reports")]
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        preexec_fn=limit_files)
        started = threading.Event()
        lines: dict[str, list[str]] = {"stdout": [], "stderr": []}
        load_started: list[float] = []

        def read(name: str, stream: Any) -> None:
            """Keep every line; the first progress line ('load N/T s') dates the load's start."""
            for line in stream:
                lines[name].append(line)
                found = LOAD_LINE.match(line)
                if found and not load_started:
                    load_started.append(time.time() - int(found.group(1)))
                    started.set()

        readers = [threading.Thread(target=read, args=(name, getattr(self.process, name)), daemon=True)
                   for name in lines]
        children: dict[int, psutil.Process] = {}
        watcher = threading.Thread(target=self._watch_children, args=(children,), daemon=True)
        for thread in (*readers, watcher):
            thread.start()
        while not started.wait(0.2) and self.process.poll() is None:
            pass
        if load_started:
            self._strike(load_started[0])
        code: int | None
        try:
            code = self.process.wait(TRIAL_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            for child in psutil.Process(self.process.pid).children(recursive=True):
                child.kill()
            self.process.kill()
            self.process.wait()
            code = None
        exited = time.time()
        for fault in self.plan.faults:
            self._undo(fault)
        for thread in (*readers, watcher):
            thread.join(10)
        return Run(code, "".join(lines["stdout"]), "".join(lines["stderr"]), load_started[0] if load_started else None,
                   exited, list(children.values()), self.disk / "reports")

    def _watch_children(self, children: dict[int, psutil.Process]) -> None:
        """Collect slagate's descendants while it runs: those alive after it exited were left behind."""
        assert self.process is not None
        with contextlib.suppress(psutil.NoSuchProcess):
            parent = psutil.Process(self.process.pid)
            while self.process.poll() is None:
                for child in parent.children(recursive=True):
                    children.setdefault(child.pid, child)
                time.sleep(0.2)

    def _strike(self, origin: float) -> None:
        """Apply each fault at origin + at, and end the held ones at origin + at + hold, while slagate runs."""
        assert self.process is not None
        steps: list[tuple[float, Callable[[], None]]] = []
        for fault in self.plan.faults:
            steps.append((origin + fault.at, lambda fault=fault: self._apply(fault)))
            if fault.hold is not None:
                steps.append((origin + fault.at + fault.hold, lambda fault=fault: self._undo(fault)))
        for moment, step in sorted(steps, key=lambda item: item[0]):
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(max(0.0, moment - time.time()))
            if self.process.poll() is not None:
                return
            step()

    def _apply(self, fault: Fault) -> None:
        """Strike one fault now, recording when; not at all when its victim is already gone."""
        lab, kind = self.lab, fault.kind
        assert self.process is not None and lab.target.process is not None
        victim = lab.prometheus.process if kind in ON_PROMETHEUS else lab.target.process
        if kind in ON_PROMETHEUS + ON_TARGET and (victim is None or victim.poll() is not None):
            return  # an earlier fault of this trial already took it down: nothing to strike
        fault.struck = time.time()
        if kind == "prom_kill":
            lab.prometheus.crash()
        elif kind in ("prom_stop", "scrape_gap"):
            assert lab.prometheus.process is not None
            os.kill(lab.prometheus.process.pid, signal.SIGSTOP)
        elif kind == "prom_restart":
            lab.prometheus.crash()
            lab.prometheus.start()
            fault.ended = time.time() + RESTART_SCRAPE_S
        elif kind == "prom_slow":
            assert self.prometheus_proxy is not None
            self.prometheus_proxy.delay = fault.detail["delay_s"]
        elif kind == "target_kill":
            lab.target.process.kill()
            lab.target.process.wait()
        elif kind == "target_stop":
            os.kill(lab.target.process.pid, signal.SIGSTOP)
        elif kind == "target_slow":
            assert self.target_proxy is not None
            self.target_proxy.delay = fault.detail["delay_s"]
        elif kind == "error_burst":
            try:
                lab.target.configure(error_rate=fault.detail["error_rate"])
            except (OSError, ValueError):  # stopped by another fault of this trial: no burst
                fault.struck = None
        elif kind == "worker_kill":
            workers = [p for p in psutil.Process(self.process.pid).children(recursive=True)
                       if "validator.load.worker" in " ".join(p.cmdline())]
            if not workers:  # the load is over: nothing to strike
                fault.struck = None
                return
            workers[-1].kill()
            fault.detail["worker_pid"] = workers[-1].pid
        elif kind == "signal":
            self.process.send_signal(signal.Signals[fault.detail["signal"]])
        elif kind == "disk_full":
            if self.tmpfs:
                fill(self.disk)

    def _undo(self, fault: Fault) -> None:
        """End a held fault's effect (idempotent; also run for every fault once slagate exited)."""
        if fault.struck is None or (fault.ended is not None and fault.ended <= time.time()):
            return
        lab, kind = self.lab, fault.kind
        if kind in ("prom_stop", "scrape_gap") and lab.prometheus.process is not None:
            os.kill(lab.prometheus.process.pid, signal.SIGCONT)
        elif kind == "target_stop" and lab.target.process is not None and lab.target.process.poll() is None:
            os.kill(lab.target.process.pid, signal.SIGCONT)
        elif kind == "target_slow" and self.target_proxy is not None:
            self.target_proxy.delay = 0.0
        elif kind == "prom_slow" and self.prometheus_proxy is not None:
            self.prometheus_proxy.delay = 0.0
        elif kind == "error_burst":
            with contextlib.suppress(OSError, ValueError):  # a target killed by another fault is restored later
                lab.target.configure(error_rate=0.0)
        if kind != "prom_restart":
            fault.ended = time.time()


@dataclasses.dataclass
class Facts:
    """The run's moments (epoch seconds) read from its artifacts, against which the oracles judge each fault."""

    window: tuple[float, float]  # the steady window
    load_end: float
    load_written: float | None  # load.json's mtime: Prometheus is queried only after it
    verdict_written: float | None
    artifacts: dict[str, float]  # core artifact -> mtime
    load_readable: bool
    decision: str | None

    @classmethod
    def read(cls, run: Run, plan: Plan) -> "Facts":
        """From the run folder; without load.json the window is the planned one from the load's start."""
        run_dir = next((p for p in sorted(run.reports.glob("*")) if p.is_dir()), None) if run.reports.is_dir() else None
        mtimes = {name: (run_dir / name).stat().st_mtime for name in CORE_ARTIFACTS
                  if run_dir is not None and (run_dir / name).is_file()}
        load = _json(run_dir / "load.json") if run_dir is not None else None
        verdict = _json(run_dir / "verdict.json") if run_dir is not None else None
        origin = run.load_started if run.load_started is not None else run.exited
        window = (origin + 2.0, origin + plan.duration)
        load_end = origin + plan.duration
        if load is not None:
            window = (load["window"]["start"], load["window"]["end"])
            load_end = load["origin"] + load["profile"]["duration_s"]
        return cls(window, load_end, mtimes.get("load.json"), mtimes.get("verdict.json"), mtimes, load is not None,
                   verdict.get("decision") if verdict else None)


def _json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def oracle(fault: Fault, facts: Facts, run_end: float) -> tuple[frozenset[int], bool]:
    """(exit codes allowed, whether GO is allowed) for one fault given when it struck and what the run did."""
    t = fault.struck
    if t is None:  # the run ended before the fault's moment
        return ANY, True
    kind = fault.kind
    if "rlimit_bytes" in fault.detail:  # RLIMIT_FSIZE from the start: it bites at the first write past the limit
        t = math.inf
    if kind == "prom_kill":  # killed before the queries: nothing can be measured
        return (ANY, True) if facts.load_written is not None and t >= facts.load_written else (frozenset({4}), False)
    if kind == "prom_slow":  # the API is slow, the data whole (Prometheus scrapes the target directly)
        return ANY, True
    if kind == "worker_kill":  # a lost worker: at most CAUTION (docs/reliability.md)
        return (frozenset({1, 3}), False) if t < facts.load_end else (ANY, True)
    if kind == "signal":  # INCOMPLETE unless the verdict was already written
        before = facts.verdict_written is None or t < facts.verdict_written
        return (frozenset({5}), False) if before else (ANY | {5}, True)
    if kind == "disk_full":  # every write after the fill fails: exit 4, unless all was written before
        complete = len(facts.artifacts) == len(CORE_ARTIFACTS) and max(facts.artifacts.values()) < t
        decided = facts.verdict_written is not None and facts.verdict_written < t
        return (ANY if complete else frozenset({4})), decided
    end = fault.ended if fault.ended is not None else run_end
    overlap = min(end, facts.window[1]) - max(t, facts.window[0])
    if overlap >= HIT_S[kind]:
        return HIT_CODES.get(kind, frozenset({1, 3, 4})), False
    return ANY, True


def secrets_in(paths: list[Path], texts: dict[str, str]) -> list[str]:
    """'where: which form' for every secret form found in the files and the texts."""
    found = []
    contents = {str(path): path.read_bytes() for path in paths if path.is_file()}
    contents.update({name: text.encode() for name, text in texts.items()})
    for where, content in contents.items():
        found += [f"{where}: {form}" for form, secret in SECRETS.items() if secret in content]
    return found


def masked(text: str) -> str:
    """`text` with every secret form replaced by ***, for the --json file."""
    for secret in SECRETS.values():
        text = text.replace(secret.decode(), "***")
    return text


def judge(plan: Plan, run: Run, folder: Path) -> dict[str, Any]:
    """The trial's record: faults and moments, exit code, decision, oracle and every violation."""
    facts = Facts.read(run, plan)
    verdicts = [oracle(fault, facts, run.exited) for fault in plan.faults]
    go_allowed = all(go for _, go in verdicts)
    allowed = frozenset().union(*(codes for codes, _ in verdicts)) - ({0} if not go_allowed else set())
    violations: dict[str, str] = {}
    false_go = (run.code == 0 or facts.decision == "GO") and not go_allowed
    if false_go:
        violations["false GO"] = f"exit {run.code}, verdict.json decision {facts.decision}"
    written = "load.json written" in run.stderr
    full_before_load = any(f.kind == "disk_full" and f.struck is not None for f in plan.faults) and not written
    if run.load_started is not None and not facts.load_readable and not full_before_load:
        violations["lost load"] = "the load started and load.json is missing or unreadable"
    if "Traceback (most recent call last)" in run.stdout + run.stderr:
        violations["traceback"] = "in stdout or stderr"
    if run.code not in allowed and not (run.code == 0 and false_go):
        violations["bad exit"] = f"exit {run.code}, allowed {sorted(allowed)}"
    _, alive = psutil.wait_procs(run.children, timeout=10)
    if alive:
        violations["left behind"] = "; ".join(" ".join(p.cmdline()) or str(p.pid) for p in alive)
        for process in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
    files = list(run.reports.rglob("*")) if run.reports.is_dir() else []
    files += [folder / "github-output", folder / "github-step-summary"]
    leaks = secrets_in(files, {"stdout": run.stdout, "stderr": run.stderr})
    if leaks:
        violations["secrets"] = "; ".join(leaks)
    origin = run.load_started or run.exited

    def since(moment: float | None) -> float | None:
        """Seconds after the load started, as --json shows every moment."""
        return None if moment is None else round(moment - origin, 2)

    return {
        "trial": plan.number,
        "duration_s": plan.duration,
        "workers": plan.workers,
        "faults": [{"kind": f.kind, "at_s": f.at, "hold_s": f.hold, **f.detail, "struck_s": since(f.struck),
                    "ended_s": since(f.ended)} for f in plan.faults],
        "window_s": [since(facts.window[0]), since(facts.window[1])],
        "load_written_s": since(facts.load_written),
        "verdict_written_s": since(facts.verdict_written),
        "exit_code": run.code,
        "decision": facts.decision,
        "allowed": sorted(allowed),
        "go_allowed": go_allowed,
        "violations": violations,
        "stderr_tail": masked("".join(run.stderr.splitlines(keepends=True)[-15:])),
    }


CATEGORIES = ("false GO", "lost load", "traceback", "bad exit", "left behind", "secrets")


def table(records: list[dict[str, Any]]) -> Iterator[str]:
    """The markdown table: one row per fault kind (a two-fault trial counts in both rows), then all trials."""
    yield "| fault | trials | false GO | lost load | tracebacks | bad exit | left behind | secrets | exit codes seen |"
    yield "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    rows = [(kind, [r for r in records if kind in {f["kind"] for f in r["faults"]}]) for kind in KINDS]
    for name, rows_records in [*rows, ("all", records)]:
        counts = [sum(category in r["violations"] for r in rows_records) for category in CATEGORIES]
        codes = Counter(r["exit_code"] for r in rows_records)
        seen = ", ".join(f"{code}×{n}" for code, n in sorted(codes.items(), key=lambda item: str(item[0])))
        yield f"| {name} | {len(rows_records)} | " + " | ".join(map(str, counts)) + f" | {seen or '—'} |"


def main() -> None:
    """Run the trials one after another on one lab, print the table and the total, exit 1 on any violation."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="one trial per fault kind (about 4 minutes)")
    parser.add_argument("--json", type=Path, help="write every trial's record here")
    args = parser.parse_args()
    try:
        find_prometheus()
    except PrometheusNotFound:
        print("fault_campaign: no Prometheus binary: apt-get install -y prometheus, or set PROMETHEUS_BIN", flush=True)
        sys.exit(2)
    plans = draw_plans(args.trials, args.seed, args.quick)
    records = []
    with tempfile.TemporaryDirectory(prefix="slagate-fault-campaign-") as temporary:
        work = Path(temporary)
        tmpfs = tmpfs_mountable(work)
        if not tmpfs:
            print("fault_campaign: cannot mount a tmpfs here: disk_full uses RLIMIT_FSIZE from the start", flush=True)
        lab = Lab()
        try:
            for plan in plans:
                folder = work / f"trial-{plan.number}"
                folder.mkdir()
                trial = Trial(plan, lab, folder, tmpfs)
                try:
                    record = judge(plan, trial.run(), folder)
                finally:
                    trial.unmount()
                records.append(record)
                kinds = " + ".join(f"{f['kind']}@{f['at_s']:g}s" for f in record["faults"])
                print(f"trial {plan.number}: {kinds}: exit {record['exit_code']} ({record['decision']}); "
                      f"violations: {', '.join(record['violations']) or 'none'}", flush=True)
                lab.restore()
        finally:
            lab.close()
    if args.json:
        args.json.write_text(json.dumps(records, indent=2) + "\n")
    for line in table(records):
        print(line)
    violations = sum(len(record["violations"]) for record in records)
    print(f"fault_campaign: {len(records)} trials, {violations} violations")
    sys.exit(1 if violations else 0)


if __name__ == "__main__":
    main()
