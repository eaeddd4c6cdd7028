"""Can the load's own figures be trusted? Measurement warnings from the load result (and Prometheus).

This judges the measurement, never the service: a saturated generator, a lost worker, a capture that
does not add up to what Locust counted, a closed-model run that breaks Little's law, an open-model
run that fell short of its rate, or client and server quantiles further apart than the spec's gap
factor. Each is a warning with a one-line reason; any warning keeps the verdict from being GO.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from validator.load import health as generator_health
from validator.load.result import LoadResult
from validator.units import format_seconds

QUANTILES = (0.5, 0.95, 0.99)
LITTLE_TOLERANCE = 0.25  # users ≈ throughput × (latency + wait) within ±25 %
OPEN_RATE_TOLERANCE = 0.05  # the open model must achieve the configured rate within 5 %


@dataclass
class MeasurementQuality:
    """Warnings about the measurement, and the facts behind them, for the report and verdict.json."""

    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    client_reliable: bool = True
    health: list[generator_health.ProcessHealth] = field(default_factory=list)
    comparison: list[dict[str, Any]] = field(default_factory=list)
    little: dict[str, Any] | None = None
    open_model: dict[str, Any] | None = None
    lost_workers: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """verdict.json's `measurement`."""
        return {
            "warnings": self.warnings,
            "notes": self.notes,
            "client_latency_reliable": self.client_reliable,
            "generator_health": generator_health.health_document(self.health),
            "client_vs_server": self.comparison,
            "littles_law": self.little,
            "open_model": self.open_model,
            "lost_workers": self.lost_workers,
        }


def assess(load: LoadResult | None, measurements: Mapping[str, Any], gap_factor: float) -> MeasurementQuality:
    """All measurement checks for one run; `measurements` are Prometheus's (metric name → Measurement)."""
    quality = MeasurementQuality()
    if load is None:
        return quality
    _check_health(load, quality)
    _check_workers(load, quality)
    _check_completeness(load, quality)
    if load.profile.get("model") == "open":
        _check_open_model(load, quality)
    else:
        _check_little(load, quality)
    _compare_with_server(load, measurements, gap_factor, quality)
    return quality


def _check_health(load: LoadResult, quality: MeasurementQuality) -> None:
    quality.health = generator_health.assess(load.health, load.window_start, load.window_end)
    saturated = [h for h in quality.health if h.saturated and h.process != generator_health.MASTER_PROCESS]
    master = next((h for h in quality.health if h.process == generator_health.MASTER_PROCESS and h.saturated), None)
    if master is not None:
        quality.notes.append(
            f"the master was saturated ({master.describe()}): the latencies come from the workers and stay "
            "trustworthy, but progress lines and a lost worker's detection may lag"
        )
    if saturated:
        quality.client_reliable = False
        quality.warnings.append(
            "load generator saturated, client-side latency is unreliable: " + "; ".join(h.describe() for h in saturated)
        )
    elif not any(h.samples for h in quality.health):
        quality.notes.append("no generator health samples in the steady window")


def _check_workers(load: LoadResult, quality: MeasurementQuality) -> None:
    quality.lost_workers = load.lost_workers
    for worker in quality.lost_workers:
        quality.warnings.append(
            f"load worker {worker['index']} ({worker['id']}) was lost: it had reported "
            f"{worker['requests_reported']} requests, anything it sent after its last report is missing, "
            f"and the load after its loss was lower than specified"
        )
    for exited in load.generator.get("worker_exits", []):
        quality.notes.append(f"a local worker process exited during the load: {exited}")
    for worker in load.late_workers:
        who = f"load worker {worker['index']} ({worker['id']}) connected after the load started"
        sent = worker.get("locust_requests", 0)
        if sent:
            quality.warnings.append(
                f"{who} and sent {sent} requests that slagate never captured (they reached the target and "
                "Prometheus, not the client histograms); start every worker before the load (`--expect-workers`)"
            )
        else:
            quality.notes.append(f"{who}; Locust gave it no users, so the load ran on the workers set up at the start")


def _check_completeness(load: LoadResult, quality: MeasurementQuality) -> None:
    uncaptured = sum(worker.get("locust_requests", 0) for worker in load.late_workers)  # named on their own
    if load.locust_requests is not None and load.locust_requests - uncaptured != load.captured_requests:
        quality.warnings.append(
            f"the client histograms hold {load.captured_requests} requests but Locust counted "
            f"{load.locust_requests}: some reports were lost"
        )


def _check_little(load: LoadResult, quality: MeasurementQuality) -> None:
    steady = load.steady_timeline()
    combined = steady.combined()
    wait = load.profile.get("mean_wait_s")
    users = load.profile.get("users")
    if not combined.total or load.window_seconds <= 0 or wait is None or not users:
        quality.notes.append("Little's law not checked (no requests, or the scenario's mean wait time is unknown)")
        return
    throughput = combined.total / load.window_seconds
    latency = combined.sum / combined.total / 1e6
    implied = throughput * (latency + wait)
    ratio = implied / users
    quality.little = {
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
        quality.client_reliable = False
        quality.warnings.append(
            f"{text}: users spent {(1 - ratio) * 100:.0f} % of their time neither in a request nor waiting "
            "(generator queueing, slow task code, users that never started, or a lost worker's users)"
        )
    elif ratio > 1 + LITTLE_TOLERANCE:
        quality.notes.append(f"{text}: tasks make several requests per wait or requests overlap")
    else:
        quality.notes.append(f"{text} (holds within {LITTLE_TOLERANCE * 100:g} %)")


def _check_open_model(load: LoadResult, quality: MeasurementQuality) -> None:
    rate = float(load.profile["arrival_rate"])
    steady = load.steady_timeline()
    requests = steady.successes + steady.failures
    achieved = requests / load.window_seconds if load.window_seconds > 0 else 0.0
    late = load.steady(load.late).combined() if load.late is not None else None
    corrected = load.steady(load.corrected).combined() if load.corrected is not None else None
    raw = steady.combined()
    quality.open_model = {
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
        quality.warnings.append(
            f"open model achieved {achieved:.1f} req/s in the steady window, short of the configured "
            f"{rate:g}/s by more than {OPEN_RATE_TOLERANCE * 100:g} %"
        )


def _compare_with_server(
    load: LoadResult, measurements: Mapping[str, Any], gap_factor: float, quality: MeasurementQuality
) -> None:
    client = load.steady_timeline().combined()
    for q in QUANTILES:
        name = f"latency_p{q * 100:g}"
        measurement = measurements.get(name)
        evidence = getattr(measurement, "evidence", None)
        server = evidence.estimate() if evidence is not None else None
        ours = _quantile_s(client, q)
        usable = server is not None and ours is not None and math.isfinite(server) and server > 0
        ratio = ours / server if usable else None
        flagged = ratio is not None and not (1 / gap_factor <= ratio <= gap_factor)
        quality.comparison.append(
            {"quantile": q, "client_s": ours, "server_s": server, "ratio": ratio, "flagged": flagged}
        )
    flagged = [row for row in quality.comparison if row["flagged"]]
    if flagged:
        rows = ", ".join(
            f"p{row['quantile'] * 100:g} client {format_seconds(row['client_s'])} vs server "
            f"{format_seconds(row['server_s'])} (×{row['ratio']:.2f})"
            for row in flagged
        )
        quality.warnings.append(
            f"client and server latency differ by more than ×{gap_factor:g}: {rows} "
            "(network, generator queueing, or a Prometheus selector that does not match this traffic)"
        )


def _quantile_s(histogram: Any, q: float) -> float | None:
    if histogram is None or not histogram.total:
        return None
    return histogram.quantile(q) / 1e6


def assess_runs(loads: Sequence[LoadResult], measurements: Mapping[str, Any], gap_factor: float) -> MeasurementQuality:
    """One assessment of several back-to-back runs (`load.repeat`): a warning in any run counts.

    Each run's own facts are prefixed with its number; Prometheus's figures are pooled over the
    runs, so each run's client quantiles are compared with the pooled server ones.
    """
    if len(loads) <= 1:
        return assess(loads[0] if loads else None, measurements, gap_factor)
    combined = MeasurementQuality()
    for number, load in enumerate(loads, 1):
        run = assess(load, measurements, gap_factor)
        combined.warnings += [f"run {number}: {warning}" for warning in run.warnings]
        combined.notes += [f"run {number}: {note}" for note in run.notes]
        combined.client_reliable = combined.client_reliable and run.client_reliable
        combined.health += [replace(h, process=f"run {number} {h.process}") for h in run.health]
        combined.lost_workers += [worker | {"run": number} for worker in run.lost_workers]
        combined.comparison, combined.little, combined.open_model = run.comparison, run.little, run.open_model
    return combined
