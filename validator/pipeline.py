"""The stages of a validation, each reading the previous stage's artifact in the run directory.

load (load.json) → measure (metrics.json) → judge (verdict.json, report.md). Each stage can be
re-run alone: `slagate validate` re-measures a recorded window, `slagate report` re-judges and
re-renders. A stage that fails never deletes what an earlier stage wrote.
"""

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from validator import stats
from validator.baseline import Baseline, pool_runs
from validator.evidence import DEFAULT_RESAMPLING, Measurement, QuantileEvidence
from validator.gates import GateResult, evaluate_gate
from validator.load.result import LoadResult
from validator.prometheus import PrometheusSource, PrometheusUnavailable, Window
from validator.spec import GateSpec, Spec
from validator.verdict import Verdict, decide

METRICS_FILE = "metrics.json"
SHAPE_PROBABILITIES = (0.5, 0.75, 0.9, 0.95, 0.99, 0.999)  # the quantile function compared by the shape note


@dataclass
class MetricsRecord:
    """The artifact of the measure stage: every figure, every query, or why nothing could be measured."""

    prometheus_url: str
    window: Window
    measurements: dict[str, Measurement] = field(default_factory=dict)
    queries: list[dict[str, Any]] = field(default_factory=list)
    could_not_evaluate: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "prometheus_url": self.prometheus_url,
            "window": {"start": self.window.start, "end": self.window.end, "seconds": self.window.seconds},
            "could_not_evaluate": self.could_not_evaluate,
            "measurements": {name: m.to_dict() for name, m in self.measurements.items()},
            "queries": self.queries,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "MetricsRecord":
        return cls(
            prometheus_url=data["prometheus_url"],
            window=Window(data["window"]["start"], data["window"]["end"]),
            measurements={name: Measurement.from_dict(m) for name, m in data["measurements"].items()},
            queries=data.get("queries", []),
            could_not_evaluate=data.get("could_not_evaluate"),
        )

    def write(self, run_dir: Path) -> Path:
        path = run_dir / METRICS_FILE
        path.write_text(json.dumps(self.to_dict(), indent=1))
        return path

    @classmethod
    def read(cls, run_dir: Path) -> "MetricsRecord":
        return cls.from_dict(json.loads((run_dir / METRICS_FILE).read_text()))


@dataclass(frozen=True)
class Judgement:
    """The gates' results, the verdict they lead to, and the level each bound was judged at."""

    results: list[GateResult]
    verdict: Verdict
    check_confidence: float | None = None
    multiplicity: str = ""
    shape: str | None = None  # the distribution-shape observation against the baseline


def new_run_dir(reports_dir: Path, service: str) -> Path:
    """A fresh `reports/<run-id>/`, the run id being the UTC time and the service name."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    safe_service = re.sub(r"[^A-Za-z0-9._-]+", "-", service)
    run_dir = reports_dir / f"{stamp}-{safe_service}"
    suffix = 1
    while run_dir.exists():
        suffix += 1
        run_dir = reports_dir / f"{stamp}-{safe_service}-{suffix}"
    run_dir.mkdir(parents=True)
    return run_dir


def measure(spec: Spec, load: LoadResult, wait_for_scrape: bool = True) -> MetricsRecord:
    """Query Prometheus over the load's steady window; an unreachable server is recorded, not raised."""
    window = Window(load.window_start, load.window_end)
    record = MetricsRecord(spec.prometheus.url, window)
    source: PrometheusSource | None = None
    try:
        source = PrometheusSource(spec.prometheus)
        if wait_for_scrape:
            source.wait_for_scrape_after(window.end)
        record.measurements = source.measure(window, spec.gates)
    except PrometheusUnavailable as error:
        record.could_not_evaluate = str(error)
    if source is not None:
        record.queries = source.log.entries
    return record


def pool_records(records: list[MetricsRecord]) -> MetricsRecord:
    """Repeated runs of one candidate as one record: each metric's evidence pooled (every run's windows kept,
    so the gates judge the runs as units), every query kept, the window spanning all runs."""
    if len(records) == 1:
        return records[0]
    failed = next((r.could_not_evaluate for r in records if r.could_not_evaluate), None)
    window = Window(records[0].window.start, records[-1].window.end)
    pooled = MetricsRecord(records[0].prometheus_url, window, could_not_evaluate=failed)
    pooled.measurements = pool_runs([r.measurements for r in records])
    pooled.queries = [query for r in records for query in r.queries]
    return pooled


def judge(spec: Spec, metrics: MetricsRecord, baseline: Baseline | None) -> Judgement:
    """Evaluate every gate of the spec on the measurements (and the baseline) and decide.

    PASS needs the one-sided bound at the spec's level within the bound; FAIL needs the one-sided bound at the
    level `fail_confidence` picks (the same, or Bonferroni's 1 - (1 - level)/m) beyond it.
    """
    label = baseline.label if baseline else None
    level, note = check_confidence(spec)
    results = [
        evaluate_gate(
            gate,
            metrics.measurements.get(gate.metric.name),
            baseline.measurements.get(gate.metric.name) if baseline else None,
            spec.level,
            label,
            spec.resampling,
            level,
        )
        for gate in spec.gates
    ]
    shape = shape_observation(
        metrics.measurements, baseline.measurements if baseline else {}, spec.level, spec.resampling
    )
    return Judgement(results, decide(results, metrics.could_not_evaluate), level, note, shape)


def shape_observation(
    candidate: dict[str, Measurement],
    baseline: dict[str, Measurement],
    confidence: float,
    resampling: stats.Resampling = DEFAULT_RESAMPLING,
) -> str | None:
    """One sentence comparing the whole latency distribution with the baseline's, p50 to p99.9 (not a gate).

    Each ratio's interval comes from the gates' within-run machinery (exact or block draws), without run-to-run
    noise: that noise scales every quantile alike, so it cannot make the shape look changed.
    """
    sides = [side.get("latency_p50") for side in (candidate, baseline)]
    if not all(m is not None and isinstance(m.evidence, QuantileEvidence) for m in sides):
        return None
    ours, theirs = (m.evidence for m in sides)  # type: ignore[union-attr]
    band = [
        ours.at(p).change_vs(theirs.at(p), confidence, resampling, between_runs=False).interval
        for p in SHAPE_PROBABILITIES
    ]
    if any(math.isnan(i.low) or math.isnan(i.high) for i in band):
        return None
    shown = ", ".join(
        f"p{p * 100:g} ×{i.estimate:.3f} [{i.low:.3f}, {i.high:.3f}]"
        for p, i in zip(SHAPE_PROBABILITIES, band, strict=True)
    )
    median = band[0]
    apart = [p for p, i in zip(SHAPE_PROBABILITIES, band, strict=True) if i.low > median.high or i.high < median.low]
    verdict = (
        f"the shape changed: the ratio at p{apart[-1] * 100:g} is clearly unlike the median's"
        if apart
        else "the distribution moved as a whole (no quantile's ratio is clearly unlike the median's)"
    )
    method = next(m for m in ("block", "exact") if m in median.method)
    return f"candidate ÷ baseline {shown} ({confidence * 100:g} % intervals, {method} draws); {verdict}"


def check_confidence(spec: Spec) -> tuple[float, str]:
    """The level a bound's FAIL is judged at, and one sentence saying why."""
    return fail_confidence(spec.gates, spec.level, spec.multiplicity)


def fail_confidence(gates: Iterable[GateSpec], bound_level: float, multiplicity: str = "margin") -> tuple[float, str]:
    """The one-sided level a bound's FAIL is judged at, and one sentence why. `margin`: the spec's own level,
    since a same-build comparison sits a whole margin away from FAIL; `bonferroni`: level split over the bounds
    of critical gates (only their FAIL makes a NO-GO), for a guarantee even when every bound is met exactly."""
    checks = sum(
        (g.max is not None) + (g.min is not None) + (g.max_regression is not None)
        for g in gates
        if g.severity == "critical"
    )
    shown, interval = f"{bound_level * 100:g} %", f"{stats.interval_level(bound_level) * 100:g} %"
    if multiplicity == "margin" or checks <= 1:
        return bound_level, (
            f"each bound is judged on its own one-sided {shown} bound, an end of the {interval} interval shown, so a "
            f"build exactly at a bound PASSes it, or FAILs it, about {(1 - bound_level) * 100:g} % of the time; over "
            "several gates the margins keep a build that meets its bounds far from FAIL (benchmarks/stat_quality.py "
            "measures the verdict's false NO-GO rate)"
        )
    level = stats.per_check_confidence(bound_level, checks)
    return level, (
        f"PASS on one-sided {shown} bounds; FAIL only on the one-sided {level * 100:.2f} % bound (Bonferroni over "
        f"the {checks} bounds of critical gates, so even a build exactly at every bound is NO-GO at most "
        f"{(1 - bound_level) * 100:g} % of the time, nominally)"
    )
