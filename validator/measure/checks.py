"""Can the load's own figures be trusted? Judging the measurement, never the service.

A saturated generator, a lost or late worker, a capture that does not add up to the requests Locust reported,
a closed-model run that breaks Little's law, an open-model run short of its rate, or client and
server quantiles further apart than the spec's gap factor: each is a warning with a one-line reason,
and any warning in any run keeps the verdict from being GO. The inputs are the load's recorded facts
(`LoadResult`) and the server's own quantile estimates of the same run.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from validator.load.health import MASTER_PROCESS
from validator.load.histogram import LatencyHistogram, upper_edges_us
from validator.load.result import LoadResult
from validator.measure.reconciliation import ClientCounts, ServerCounts, findings, reconcile
from validator.spec.units import format_seconds

QUANTILES = (0.5, 0.95, 0.99)
LITTLE_TOLERANCE = 0.25  # users ≈ throughput × (latency + wait) within ±25 %
OPEN_RATE_TOLERANCE = 0.05  # the open model must achieve the configured rate within 5 %
CPU_SATURATED_PERCENT = 90.0  # of one core: a Locust process runs one Python thread
LAG_SATURATED_MS = 50.0  # a timed sleep waking up this late means greenlets queue for the CPU
SATURATED_SHARE = 0.2  # saturated in at least this share of the steady window's samples → unreliable
LATE_SHARE = 0.01  # open model: more than this share of sends leaving late (> 5 ms behind their slot) ...
LATE_P99_S = 0.1  # ... or the late sends' p99 lateness beyond this: the timetable was not kept
POOL_BUSY = 0.8  # rate × p95 latency at this share of `users` or more: bursts of slow answers exhaust the pool



@dataclass(frozen=True)
class ServerQuantile:
    """The server's quantile (seconds) and the edges of the histogram bucket it was interpolated in."""

    value: float
    bucket_low: float
    bucket_high: float

    @classmethod
    def of(cls, evidence: Any) -> "ServerQuantile":
        """From a QuantileEvidence: its estimate and the bucket holding it."""
        value = evidence.estimate()
        low, high = bucket_edges(evidence.upper_bounds, value)
        return cls(value, low, high)


def bucket_edges(upper_bounds: Sequence[float], value: float) -> tuple[float, float]:
    """(lower, upper) edges of the classic-histogram bucket that holds `value`."""
    lower = 0.0
    for upper in upper_bounds:
        if value <= upper:
            return lower, upper
        lower = upper
    return lower, math.inf


ServerQuantiles = Mapping[float, "ServerQuantile | float | None"]  # quantile → the server's figure (None: missing)


@dataclass(frozen=True)
class ProcessHealth:
    """One generator process's health over the steady window."""

    process: str
    samples: int
    cpu_mean: float
    cpu_max: float
    lag_max_ms: float
    saturated_share: float

    @property
    def saturated(self) -> bool:
        """Saturated in at least SATURATED_SHARE of its steady-window samples."""
        return self.samples > 0 and self.saturated_share >= SATURATED_SHARE

    def describe(self) -> str:
        """One line for a warning."""
        return (
            f"{self.process}: CPU mean {self.cpu_mean:.0f} % / max {self.cpu_max:.0f} %, loop lag max "
            f"{self.lag_max_ms:.0f} ms, saturated in {self.saturated_share * 100:.0f} % of {self.samples} samples"
        )


@dataclass
class RunChecks:
    """One run's measurement checks: warnings, notes and the facts behind them."""

    run: int | None = None  # the run's number when `load.repeat` > 1
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    client_reliable: bool = True
    health: list[ProcessHealth] = field(default_factory=list)
    comparison: list[dict[str, Any]] = field(default_factory=list)
    little: dict[str, Any] | None = None
    open_model: dict[str, Any] | None = None
    lost_workers: list[dict[str, Any]] = field(default_factory=list)
    reconciliation: dict[str, Any] | None = None  # client vs server counts (validator/measure/reconciliation.py)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "warnings": self.warnings,
            "notes": self.notes,
            "client_latency_reliable": self.client_reliable,
            "generator_health": health_document(self.health),
            "client_vs_server": self.comparison,
            "reconciliation": self.reconciliation,
            "littles_law": self.little,
            "open_model": self.open_model,
            "lost_workers": self.lost_workers,
        }


@dataclass
class MeasurementChecks:
    """Every run's checks; a warning in any run counts (verdict.json's `measurement`)."""

    runs: list[RunChecks] = field(default_factory=list)

    def _prefixed(self, attribute: str) -> list[str]:
        several = len(self.runs) > 1
        return [f"run {run.run}: {line}" if several else line for run in self.runs for line in getattr(run, attribute)]

    @property
    def warnings(self) -> list[str]:
        return self._prefixed("warnings")

    @property
    def notes(self) -> list[str]:
        return self._prefixed("notes")

    @property
    def client_reliable(self) -> bool:
        return all(run.client_reliable for run in self.runs)

    @property
    def errors_contested(self) -> bool:
        """Whether a run's client saw more failures than the server counted errors, beyond what the window
        explains: the server's reading of errors is then wrong, and the client's count is the evidence left."""
        return any(row["figure"] == "failures" and row["flagged"] and row["difference"] < 0
                   for run in self.runs for row in (run.reconciliation or {}).get("rows", []))

    def to_dict(self) -> dict[str, Any]:
        return {
            "warnings": self.warnings,
            "notes": self.notes,
            "client_latency_reliable": self.client_reliable,
            "runs": [run.to_dict() for run in self.runs],
        }


def check_runs(
    loads: Sequence[LoadResult],
    servers: Sequence[ServerQuantiles],
    gap_factor: float,
    counts: Sequence[ServerCounts | None] | None = None,
) -> MeasurementChecks:
    """The checks of back-to-back runs, each run's client compared with that run's own server figures."""
    several = len(loads) > 1
    counts = counts if counts is not None else [None] * len(loads)
    return MeasurementChecks(
        [
            check_run(load, server, gap_factor, run=number if several else None, counts=count)
            for number, (load, server, count) in enumerate(zip(loads, servers, counts, strict=True), 1)
        ]
    )


def check_run(
    load: LoadResult,
    server: ServerQuantiles,
    gap_factor: float,
    run: int | None = None,
    counts: ServerCounts | None = None,
) -> RunChecks:
    """All measurement checks for one run; `counts` (the server's request and error counts) are reconciled with
    the client's when given."""
    checks = RunChecks(run)
    _check_health(load, checks)
    _check_workers(load, checks)
    _check_completeness(load, checks)
    if load.profile.get("model") == "open":
        _check_open_model(load, checks)
    else:
        _check_little(load, checks)
    _compare_with_server(load, server, gap_factor, checks)
    if counts is not None:
        _reconcile_counts(load, counts, checks)
    return checks


def _reconcile_counts(load: LoadResult, server: ServerCounts, checks: RunChecks) -> None:
    client = ClientCounts.of(load)
    result = reconcile(client, server)
    checks.reconciliation = result.to_dict()
    warnings, notes = findings(result, client, server)
    checks.warnings += warnings
    checks.notes += notes


def process_health(samples: Mapping[str, list[list[float]]], start: float, end: float) -> list[ProcessHealth]:
    """Each process's health from its samples [epoch s, CPU %, lag ms] taken inside [start, end]."""
    health = []
    for process, rows in sorted(samples.items()):
        inside = [row for row in rows if start <= row[0] <= end]
        cpu = [row[1] for row in inside]
        saturated = sum(row[1] >= CPU_SATURATED_PERCENT or row[2] >= LAG_SATURATED_MS for row in inside)
        health.append(
            ProcessHealth(
                process=process,
                samples=len(inside),
                cpu_mean=sum(cpu) / len(cpu) if cpu else 0.0,
                cpu_max=max(cpu, default=0.0),
                lag_max_ms=max((row[2] for row in inside), default=0.0),
                saturated_share=saturated / len(inside) if inside else 0.0,
            )
        )
    return health


def health_document(health: list[ProcessHealth]) -> dict[str, Any]:
    """The health summary in verdict.json, with the thresholds it was judged by."""
    return {
        "thresholds": {
            "cpu_percent": CPU_SATURATED_PERCENT,
            "loop_lag_ms": LAG_SATURATED_MS,
            "saturated_share": SATURATED_SHARE,
        },
        "processes": [vars(h) | {"saturated": h.saturated} for h in health],
        "saturated": any(h.saturated for h in health if h.process != MASTER_PROCESS),
    }


def _check_health(load: LoadResult, checks: RunChecks) -> None:
    checks.health = process_health(load.health, load.window_start, load.window_end)
    saturated = [h for h in checks.health if h.saturated and h.process != MASTER_PROCESS]
    master = next((h for h in checks.health if h.process == MASTER_PROCESS and h.saturated), None)
    if master is not None:
        checks.notes.append(
            f"the master was saturated ({master.describe()}): the latencies come from the workers and stay "
            "trustworthy, but progress lines and a lost worker's detection may lag"
        )
    if saturated:
        checks.client_reliable = False
        checks.warnings.append(
            "load generator saturated, client-side latency is unreliable: " + "; ".join(h.describe() for h in saturated)
        )
    elif not any(h.samples for h in checks.health):
        checks.notes.append("no generator health samples in the steady window")


def _check_workers(load: LoadResult, checks: RunChecks) -> None:
    checks.lost_workers = load.lost_workers
    for worker in checks.lost_workers:
        checks.warnings.append(
            f"load worker {worker['index']} ({worker['id']}) was lost: it had reported "
            f"{worker['requests_reported']} requests, anything it sent after its last report is missing, "
            f"and the load after its loss was lower than specified"
        )
    for exited in load.generator.get("worker_exits", []):
        checks.notes.append(f"a local worker process exited during the load: {exited}")
    for worker in load.late_workers:
        who = f"load worker {worker['index']} ({worker['id']}) connected after the load started"
        sent = worker.get("locust_requests", 0)
        if sent:
            checks.warnings.append(
                f"{who} and sent {sent} requests that slagate never captured (they reached the target and "
                "Prometheus, not the client histograms); start every worker before the load (`--expect-workers`)"
            )
        else:
            checks.notes.append(f"{who}; Locust gave it no users, so the load ran on the workers set up at the start")


def _check_completeness(load: LoadResult, checks: RunChecks) -> None:
    uncaptured = sum(worker.get("locust_requests", 0) for worker in load.late_workers)  # named on their own
    if load.locust_requests is not None and load.locust_requests - uncaptured != load.captured_requests:
        checks.warnings.append(
            f"the client histograms hold {load.captured_requests} requests but Locust reported "
            f"{load.locust_requests}: some reports were lost"
        )


def _check_little(load: LoadResult, checks: RunChecks) -> None:
    combined = load.steady_timeline().combined()
    wait = load.profile.get("mean_wait_s")
    users = load.profile.get("users")
    if not combined.total or load.window_seconds <= 0 or wait is None or not users:
        checks.notes.append("Little's law not checked (no requests, or the scenario's mean wait time is unknown)")
        return
    throughput = combined.total / load.window_seconds
    latency = combined.sum / combined.total / 1e6
    implied = throughput * (latency + wait)
    ratio = implied / users
    checks.little = {
        "users": users,
        "throughput_per_s": throughput,
        "mean_latency_s": latency,
        "mean_wait_s": wait,
        "implied_users": implied,
        "ratio": ratio,
        "tolerance": LITTLE_TOLERANCE,
    }
    text = (
        f"Little's law: {users} users vs throughput {throughput:.1f}/s × (latency {format_seconds(latency)} + "
        f"wait {format_seconds(wait)}) = {implied:.1f}"
    )
    if ratio < 1 - LITTLE_TOLERANCE:
        checks.client_reliable = False
        checks.warnings.append(
            f"{text}: users spent {(1 - ratio) * 100:.0f} % of their time neither in a request nor waiting "
            "(generator queueing, slow task code, users that never started, or a lost worker's users)"
        )
    elif ratio > 1 + LITTLE_TOLERANCE:
        checks.notes.append(f"{text}: tasks make several requests per wait or requests overlap")
    else:
        checks.notes.append(f"{text} (holds within {LITTLE_TOLERANCE * 100:g} %)")


def _check_open_model(load: LoadResult, checks: RunChecks) -> None:
    rate = float(load.profile["arrival_rate"])
    steady = load.steady_timeline()
    requests = steady.successes + steady.failures
    achieved = requests / load.window_seconds if load.window_seconds > 0 else 0.0
    late = load.steady(load.late).combined() if load.late is not None else None
    corrected = load.steady(load.corrected).combined() if load.corrected is not None else None
    raw = steady.combined()
    checks.open_model = {
        "arrival_rate": rate,
        "achieved_rate": achieved,
        "late_sends": 0 if late is None else late.total,
        "late_share": 0.0 if late is None or not requests else late.total / requests,
        "late_by_p50_s": _quantile_s(late, 0.5),
        "late_by_p99_s": _quantile_s(late, 0.99),
        "late_by_max_s": None if late is None or not late.total else late.max / 1e6,
        "corrected": {f"p{q * 100:g}": _quantile_s(corrected, q) for q in QUANTILES},
        "raw": {f"p{q * 100:g}": _quantile_s(raw, q) for q in QUANTILES},
    }
    if achieved < rate * (1 - OPEN_RATE_TOLERANCE):
        checks.warnings.append(
            f"open model achieved {achieved:.1f} req/s in the steady window, short of the configured "
            f"{rate:g}/s by more than {OPEN_RATE_TOLERANCE * 100:g} %"
        )
    model = checks.open_model
    late_p99 = model["late_by_p99_s"] or 0.0
    if model["late_share"] > LATE_SHARE or late_p99 > LATE_P99_S:
        checks.warnings.append(
            f"open model timetable not kept: {model['late_sends']} sends ({model['late_share'] * 100:.2f} %) left "
            f"late, by {format_seconds(model['late_by_p50_s'] or 0.0)} at p50 and {format_seconds(late_p99)} at p99 "
            f"(limits {LATE_SHARE * 100:g} % and {format_seconds(LATE_P99_S)}); {_late_cause(load, checks, raw, rate)}"
        )


def _late_cause(load: LoadResult, checks: RunChecks, raw: LatencyHistogram, rate: float) -> str:
    """Why sends left late, from the run's facts: the generator's CPU, the sending pool the target's latency ties
    up, or the generator itself falling behind while the target answered promptly."""
    saturated = [h for h in checks.health if h.saturated and h.process != MASTER_PROCESS]
    if saturated:
        return "the generator's CPU was saturated (add workers): " + "; ".join(h.describe() for h in saturated)
    users = load.profile.get("users") or 0
    slow = _quantile_s(raw, 0.95) or 0.0
    busy = rate * slow  # users a burst of slow answers ties up at once
    if users and busy >= POOL_BUSY * users:
        return (f"the user pool was exhausted: {rate:g}/s × the target's p95 latency {format_seconds(slow)} needs "
                f"about {busy:.0f} users at once, of {users} (raise `users`, or see why the target is slow)")
    return (f"the generator fell behind while the target answered within {format_seconds(slow)} at p95 (slow task "
            "code, or a generator process that paused)")


def _compare_with_server(load: LoadResult, server: ServerQuantiles, gap_factor: float, checks: RunChecks) -> None:
    """Client vs server per quantile; a gap where the client's figure lies inside the bucket the server's was
    interpolated in is the histogram's resolution limit (a note with the bucket's edges), not a doubt."""
    client = load.steady_timeline().combined()
    limits = []
    for q in QUANTILES:
        figure = server.get(q)
        theirs = figure.value if isinstance(figure, ServerQuantile) else figure
        ours = _quantile_s(client, q)
        usable = theirs is not None and ours is not None and math.isfinite(theirs) and theirs > 0
        ratio = ours / theirs if usable and ours is not None and theirs else None
        apart = ratio is not None and not (1 / gap_factor <= ratio <= gap_factor)
        inside = isinstance(figure, ServerQuantile) and ours is not None and (
            figure.bucket_low <= ours <= figure.bucket_high or _on_the_edge(client, q, figure)
        )
        row: dict[str, Any] = {"quantile": q, "client_s": ours, "server_s": theirs, "ratio": ratio,
                               "flagged": apart and not inside, "resolution_limit": apart and inside}
        if isinstance(figure, ServerQuantile):
            row["server_bucket_s"] = [figure.bucket_low, figure.bucket_high]
        checks.comparison.append(row)
        if apart and inside:
            limits.append(row)
    flagged = [row for row in checks.comparison if row["flagged"]]
    if flagged:
        rows = ", ".join(
            f"p{row['quantile'] * 100:g} client {format_seconds(row['client_s'])} vs server "
            f"{format_seconds(row['server_s'])} (×{row['ratio']:.2f})"
            for row in flagged
        )
        checks.warnings.append(
            f"client and server latency differ by more than ×{gap_factor:g}: {rows} "
            "(network, generator queueing, or a Prometheus selector that does not match this traffic)"
        )
    if limits:
        rows = ", ".join(
            f"p{row['quantile'] * 100:g} client {format_seconds(row['client_s'])} vs server "
            f"{format_seconds(row['server_s'])}, the server's interpolated in the bucket "
            f"{format_seconds(row['server_bucket_s'][0])}–{_edge(row['server_bucket_s'][1])}"
            for row in limits
        )
        checks.notes.append(
            f"client and server latency differ by more than ×{gap_factor:g} only as far as one histogram bucket "
            f"allows: {rows}; the client's figure lies in that bucket, or the client's share of requests below its "
            "edge is the quantile's within sampling, so this is the histogram's resolution limit, not a doubt "
            "about the measurement"
        )


EDGE_SLACK = 0.02  # the share by which a server bucket's count may miss the client's at its edge (window edges)


def _on_the_edge(client: LatencyHistogram, q: float, figure: ServerQuantile) -> bool:
    """Whether client and server disagree only on which side of one bucket edge the quantile falls: the client's
    share of requests below the server bucket's edge nearest its own figure is q within sampling (3 SD) and the
    window's edges. A bimodal distribution split near q puts the two sides in neighbouring buckets of a coarse
    histogram with nothing wrong."""
    ours = client.quantile(q) / 1e6
    edge = figure.bucket_low if ours < figure.bucket_low else figure.bucket_high
    if not client.total or not math.isfinite(edge):
        return False
    keys, counts = client.buckets()
    below = float(counts[upper_edges_us(keys) / 1e6 <= edge].sum()) / client.total
    return abs(below - q) <= 3 * math.sqrt(q * (1 - q) / client.total) + EDGE_SLACK


def _edge(seconds: float) -> str:
    return "+Inf" if math.isinf(seconds) else format_seconds(seconds)


def _quantile_s(histogram: LatencyHistogram | None, q: float) -> float | None:
    if histogram is None or not histogram.total:
        return None
    return histogram.quantile(q) / 1e6
