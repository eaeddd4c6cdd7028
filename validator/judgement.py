"""The analysis of one measured run: every gate judged (against the baseline), the shape note, the verdict.

PASS needs the one-sided bound at the spec's level within the bound; FAIL needs the one-sided bound at the
fail level (the same level, or Bonferroni's over the critical bounds) beyond it. Measurement warnings keep
the verdict from GO.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from validator.baseline import Baseline
from validator.evidence import DEFAULT_RESAMPLING, Measurement, QuantileEvidence
from validator.gates import GateResult, evaluate_gate
from validator.measure import MetricsRecord
from validator.spec import GateSpec, Resampling, Spec
from validator.stats.intervals import interval_level, per_check_level
from validator.verdict import Verdict, decide

SHAPE_PROBABILITIES = (0.5, 0.75, 0.9, 0.95, 0.99, 0.999)  # the quantile function compared by the shape note


@dataclass(frozen=True)
class Judgement:
    """The gates' results, the verdict they lead to, and the level each bound was judged at."""

    results: list[GateResult]
    verdict: Verdict
    fail_level: float | None = None  # the one-sided level a bound's FAIL is judged at
    multiplicity: str = ""
    shape: str | None = None  # the distribution-shape observation against the baseline


def judge_run(
    spec: Spec, metrics: MetricsRecord, baseline: Baseline | None, measurement_warnings: Sequence[str] = ()
) -> Judgement:
    """Evaluate every gate of the spec on the measurements (and the baseline) and decide once."""
    label = baseline.label if baseline else None
    level, note = fail_level(spec)
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
    verdict = decide(results, metrics.could_not_evaluate, measurement_warnings)
    return Judgement(results, verdict, level, note, shape)


def shape_observation(
    candidate: dict[str, Measurement],
    baseline: dict[str, Measurement],
    coverage: float,
    resampling: Resampling = DEFAULT_RESAMPLING,
) -> str | None:
    """One sentence comparing the whole latency distribution with the baseline's, p50 to p99.9 (not a gate).

    Each ratio's interval comes from the gates' within-run machinery (exact or block draws), without run-to-run
    noise: that noise scales every quantile alike, so it cannot make the shape look changed.
    """
    p50s = [side.get("latency_p50") for side in (candidate, baseline)]
    ours, theirs = (m.evidence if m is not None else None for m in p50s)
    if not isinstance(ours, QuantileEvidence) or not isinstance(theirs, QuantileEvidence):
        return None
    band = [ours.at(p).change_vs(theirs.at(p), coverage, resampling).interval for p in SHAPE_PROBABILITIES]
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
    method = median.method.kind.value  # exact or block: the draws the gates' within-run ratios use
    return f"candidate ÷ baseline {shown} ({coverage * 100:g} % intervals, {method} draws); {verdict}"


def fail_level(spec: Spec) -> tuple[float, str]:
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
    shown, interval = f"{bound_level * 100:g} %", f"{interval_level(bound_level) * 100:g} %"
    if multiplicity == "margin" or checks <= 1:
        return bound_level, (
            f"each bound is judged on its own one-sided {shown} bound, an end of the {interval} interval shown, so a "
            f"build exactly at a bound PASSes it, or FAILs it, about {(1 - bound_level) * 100:g} % of the time; over "
            "several gates the margins keep a build that meets its bounds far from FAIL (benchmarks/stat_quality.py "
            "measures the verdict's false NO-GO rate)"
        )
    level = per_check_level(bound_level, checks)
    return level, (
        f"PASS on one-sided {shown} bounds; FAIL only on the one-sided {level * 100:.2f} % bound (Bonferroni over "
        f"the {checks} bounds of critical gates, so even a build exactly at every bound is NO-GO at most "
        f"{(1 - bound_level) * 100:g} % of the time, nominally)"
    )
