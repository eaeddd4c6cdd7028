"""What a release manager should notice beyond the gates, as values: each observation holds its figures and the
artifact they come from, and applies only when its condition holds. Words are made in `validator/report/analysis.py`.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from validator import __version__
from validator.baseline.file import Baseline
from validator.evidence import QuantileEvidence
from validator.judge.gates import CheckKind, GateResult, Status
from validator.judge.judgement import Judgement
from validator.load.histogram import upper_edges_us
from validator.load.result import LoadResult
from validator.measure.checks import MeasurementChecks
from validator.measure.record import MetricsRecord

BURST_SHARE = 0.8  # this share of the failures ...
BURST_SPAN = 0.2  # ... inside at most this share of the steady window is a burst
CONCENTRATED_SHARE = 0.8  # one route or one status holding this share of the failures
ROUTE_SHARE = 0.5  # one route holding at least half the slow requests ...
ROUTE_OVER = 1.5  # ... and this many times its share of the traffic
WHOLE_SHIFT = 0.05  # a distribution that moved as a whole is worth saying when its median moved beyond ±5 %
COARSE_BUCKET = 1.25  # a server bucket whose upper bound is more than 25 % above its lower one
PROFILE_KEYS = ("model", "users", "arrival_rate", "duration_s", "warmup_s", "workers")


@dataclass(frozen=True)
class Observation:
    """One thing that applies to this run: its kind, the figures behind it, and their source."""

    kind: str
    figures: dict[str, Any] = field(default_factory=dict)
    source: str = ""


def observe(
    judgement: Judgement,
    metrics: MetricsRecord,
    loads: Sequence[LoadResult],
    baseline: Baseline | None,
    checks: MeasurementChecks | None,
) -> list[Observation]:
    """Every observation whose condition holds, in the order a reader should see them."""
    found: list[Observation | None] = [_shape(judgement)]
    if loads:
        found += [_slow_route(judgement.results, loads[-1]), _burst(loads), *_concentrated(loads)]
    found += [_throughput(judgement.results, checks), *_measurement(checks)]
    found += [*_baseline_drift(baseline, loads[-1] if loads else None), *_coarse_buckets(judgement.results, metrics)]
    found += [_too_wide(result) for result in judgement.results]
    return [item for item in found if item is not None]


def _shape(judgement: Judgement) -> Observation | None:
    """The tail moved unlike the median; or the whole distribution clearly moved together (a general change)."""
    shape = judgement.shape
    if shape is None:
        return None
    if not shape.changed:
        median = shape.ratios[0]
        if median.low > 1 + WHOLE_SHIFT or median.high < 1 - WHOLE_SHIFT:
            figures = {"median": median, "top": shape.ratios[-1], "q": shape.probabilities[-1]}
            return Observation("whole_distribution", figures, "the distribution-shape observation (Prometheus buckets)")
        return None
    top = shape.apart[-1]
    ratios = dict(zip(shape.probabilities, shape.ratios, strict=True))
    return Observation(
        "tail_vs_median",
        {"q": top, "tail": ratios[top], "median": ratios[shape.probabilities[0]]},
        "the distribution-shape observation (Prometheus buckets vs the baseline's)",
    )


def _slow_route(results: Sequence[GateResult], load: LoadResult) -> Observation | None:
    """One route holding most of the requests slower than the baseline's p99 while a latency figure rose."""
    rising = [r for r in results if r.change is not None and r.gate.metric.quantile and r.change.interval.low > 1]
    reference = next((r.baseline for r in rising if r.baseline is not None), None)
    if reference is None or len(load.endpoints) < 2:
        return None
    threshold_us = reference.estimate * 1e6
    slow, total = {}, {}
    for name, stats in load.endpoints.items():
        keys, counts = stats.histogram.buckets()
        slow[name] = int(counts[upper_edges_us(keys) / 1.002 > threshold_us].sum()) if len(keys) else 0
        total[name] = stats.histogram.total
    all_slow, all_requests = sum(slow.values()), sum(total.values())
    if not all_slow or not all_requests:
        return None
    name = max(slow, key=lambda n: slow[n])
    share, traffic = slow[name] / all_slow, total[name] / all_requests
    if share < ROUTE_SHARE or share < ROUTE_OVER * traffic:
        return None
    figures = {"route": name, "slow_share": share, "traffic_share": traffic, "threshold_s": reference.estimate}
    figures["gate"] = rising[0].gate.name
    return Observation("slow_route", figures, "client histograms per route (load.json, whole load)")


def _burst(loads: Sequence[LoadResult]) -> Observation | None:
    """Most failures inside a short stretch of the steady window."""
    load = loads[-1]
    windows = load.steady_timeline().windows()
    failures = np.array([w.failures for w in windows], dtype=float)
    total = failures.sum()
    if total < 10 or len(windows) < 5:
        return None
    span = max(1, int(len(windows) * BURST_SPAN))
    sums = np.convolve(failures, np.ones(span), mode="valid")
    first = int(np.argmax(sums))
    if sums[first] < BURST_SHARE * total:
        return None
    width = load.timeline.window_seconds
    start = load.timeline.origin + windows[first].index * width - load.origin
    figures = {"start_s": start, "end_s": start + span * width, "share": sums[first] / total, "failures": int(total)}
    return Observation("error_burst", figures, "failures per 1-s window (load.json)")


def _concentrated(loads: Sequence[LoadResult]) -> list[Observation]:
    """Failures concentrated in one route or one status."""
    groups = loads[-1].errors
    total = sum(g.count for g in groups)
    if total < 10:
        return []
    found = []
    for by in ("endpoint", "status"):
        tally: dict[str, int] = {}
        for group in groups:
            tally[getattr(group, by)] = tally.get(getattr(group, by), 0) + group.count
        top = max(tally, key=lambda k: tally[k])
        if len(tally) > 1 or len(groups) > 1:
            if tally[top] >= CONCENTRATED_SHARE * total:
                found.append(Observation(f"errors_in_one_{by}", {by: top, "share": tally[top] / total}, "load.json"))
        elif by == "endpoint":
            found.append(Observation("errors_in_one_endpoint", {by: top, "share": 1.0}, "load.json"))
    return found


def _throughput(results: Sequence[GateResult], checks: MeasurementChecks | None) -> Observation | None:
    """Throughput short of its target: the gate not PASS, or the open model short of its rate."""
    for result in results:
        if result.gate.metric.name == "throughput" and result.status != Status.PASS and result.value is not None:
            target = result.gate.min
            figures = {"measured": result.value, "target": target, "gate": result.gate.name}
            return Observation("throughput_short", figures, result.source)
    for run in checks.runs if checks else []:
        model = run.open_model
        if model and model["achieved_rate"] < model["arrival_rate"] * 0.95:
            figures = {"achieved": model["achieved_rate"], "target": model["arrival_rate"], "gate": None}
            return Observation("throughput_short", figures, "open-model timetable (load.json)")
    return None


def _measurement(checks: MeasurementChecks | None) -> list[Observation]:
    if checks is None:
        return []
    found = []
    gaps = [row for run in checks.runs for row in run.comparison if row.get("flagged")]
    if gaps:
        worst = max(gaps, key=lambda row: max(row["ratio"], 1 / row["ratio"]))
        found.append(Observation("client_server_gap", dict(worst), "load.json vs Prometheus (Measurement section)"))
    saturated = [h for run in checks.runs for h in run.health if h.saturated]
    if saturated:
        worst_process = max(saturated, key=lambda h: h.saturated_share)
        figures = {"process": worst_process.process, "share": worst_process.saturated_share}
        found.append(Observation("generator_saturated", figures, "generator health samples (load.json)"))
    return found


def _baseline_drift(baseline: Baseline | None, load: LoadResult | None) -> list[Observation]:
    """A baseline recorded under another load profile, or by another slagate version."""
    if baseline is None:
        return []
    found = []
    profile = getattr(baseline, "load_profile", None) or baseline.provenance.get("load_profile")
    if isinstance(profile, dict) and load is not None:
        differ = {
            key: (profile.get(key), load.profile.get(key))
            for key in PROFILE_KEYS
            if key in profile and key in load.profile and profile.get(key) != load.profile.get(key)
        }
        if differ:
            found.append(Observation("baseline_profile", {"differ": differ}, str(baseline.path)))
    recorded_with = baseline.provenance.get("slagate_version")
    if recorded_with and recorded_with != __version__:
        figures = {"recorded_with": recorded_with, "running": __version__}
        found.append(Observation("baseline_version", figures, str(baseline.path)))
    return found


def _coarse_buckets(results: Sequence[GateResult], metrics: MetricsRecord) -> list[Observation]:
    """A latency gate judged on the server's figure inside a server bucket wider than COARSE_BUCKET: its interval is
    that wide. A gate judged on the client's own histogram (source = "client") does not rest on those buckets."""
    found = []
    for result in results:
        if result.side != "server":
            continue
        measurement = metrics.measurements.get(result.gate.metric.name)
        evidence = measurement.evidence if measurement else None
        if measurement is None or not isinstance(evidence, QuantileEvidence) or result.value is None:
            continue
        bounds = np.asarray(evidence.upper_bounds, dtype=float)
        index = int(np.searchsorted(bounds, result.value.estimate))
        if 0 < index < len(bounds) and np.isfinite(bounds[index]) and bounds[index] / bounds[index - 1] > COARSE_BUCKET:
            figures = {"gate": result.gate.name, "low": bounds[index - 1], "high": bounds[index]}
            found.append(Observation("coarse_buckets", figures, measurement.source))
    return found


def _too_wide(result: GateResult) -> Observation | None:
    """A gate left WARN because its interval straddles the bound: more data would decide it."""
    thin = any(c.kind == CheckKind.ENOUGH_DATA for c in result.checks if c.status == Status.WARN)
    if result.status != Status.WARN or thin:
        return None
    interval = result.change.interval if result.change is not None else result.value
    if interval is None:
        return None
    deciding = next(c for c in result.checks if c.status == Status.WARN)
    figures = {"gate": result.gate.name, "interval": interval, "bound": deciding.bound}
    return Observation("interval_straddles", figures, "the Gates table")
