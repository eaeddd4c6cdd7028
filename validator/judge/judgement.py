"""The analysis of one measured run: every gate judged (against the baseline), the shape note, the verdict.

PASS needs the one-sided bound at the spec's level within the bound; FAIL needs the one-sided bound at the
fail level (the same level, or Bonferroni's over the critical bounds) beyond it. Measurement warnings keep
the verdict from GO.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from validator.baseline.file import Baseline
from validator.evidence import DEFAULT_RESAMPLING, Measurement, QuantileEvidence
from validator.judge.analysis import Look
from validator.judge.baseline_compare import Comparability
from validator.judge.gates import FailLevel, GateResult, fail_level, judge_gate
from validator.judge.verdict import Verdict, decide
from validator.measure.record import MetricsRecord
from validator.spec import Resampling, Spec
from validator.stats.intervals import Interval

SHAPE_PROBABILITIES = (0.5, 0.75, 0.9, 0.95, 0.99, 0.999)  # the quantile function compared by the shape note


@dataclass(frozen=True)
class ShapeObservation:
    """Candidate ÷ baseline at each quantile of the latency distribution (not a gate)."""

    probabilities: tuple[float, ...]
    ratios: tuple[Interval, ...]
    apart: tuple[float, ...]  # the probabilities whose ratio is clearly unlike the median's

    @property
    def changed(self) -> bool:
        """Some quantile moved clearly unlike the median: the shape changed, not only the location."""
        return bool(self.apart)


@dataclass(frozen=True)
class Judgement:
    """The gates' results, the verdict they lead to, the level each FAIL was judged at, the shape note."""

    results: list[GateResult]
    verdict: Verdict
    fail_level: FailLevel | None = None
    shape: ShapeObservation | None = None
    looks: tuple[Look, ...] = ()  # repeat = "auto": each look, the last one being this judgement's


def judge_run(
    spec: Spec,
    metrics: MetricsRecord,
    baseline: Baseline | None,
    measurement_warnings: Sequence[str] = (),
    comparability: Comparability | None = None,
    reference: Baseline | None = None,
) -> Judgement:
    """Evaluate every gate of the spec on the measurements (and the baseline, and the pinned `reference` for
    `max_drift`) and decide once; a load that differs from the baseline's (`comparability`) caps the relative
    checks."""
    label = baseline.label if baseline else None
    failing = fail_level(spec)
    results = [
        judge_gate(
            gate,
            metrics.measurements,
            baseline.measurements if baseline else None,
            spec.level,
            label,
            spec.resampling,
            failing.level,
            reference.measurements if reference else None,
            f"reference {reference.identity}" if reference else None,
        )
        for gate in spec.gates
    ]
    if comparability is not None:
        results = comparability.applied(results)
    shape = shape_observation(
        metrics.measurements, baseline.measurements if baseline else {}, spec.level, spec.resampling
    )
    verdict = decide(
        results,
        metrics.could_not_evaluate,
        measurement_warnings,
        metrics.incomplete,
        rollout=spec.rollout,
        waivers=spec.waivers,
    )
    return Judgement(results, verdict, failing, shape)


def shape_observation(
    candidate: dict[str, Measurement],
    baseline: dict[str, Measurement],
    coverage: float,
    resampling: Resampling = DEFAULT_RESAMPLING,
) -> ShapeObservation | None:
    """The whole latency distribution against the baseline's, p50 to p99.9, or None without both p50s.

    Each ratio's interval comes from the gates' within-run machinery (exact or block draws), without run-to-run
    noise: that noise scales every quantile alike, so it cannot make the shape look changed.
    """
    p50s = [side.get("latency_p50") for side in (candidate, baseline)]
    ours, theirs = (m.evidence if m is not None else None for m in p50s)
    if not isinstance(ours, QuantileEvidence) or not isinstance(theirs, QuantileEvidence):
        return None
    band = tuple(
        _read_at(candidate, ours, p).change_vs(_read_at(baseline, theirs, p), coverage, resampling).interval
        for p in SHAPE_PROBABILITIES
    )
    if any(math.isnan(i.low) or math.isnan(i.high) for i in band):
        return None
    median = band[0]
    apart = tuple(
        p for p, i in zip(SHAPE_PROBABILITIES, band, strict=True) if i.low > median.high or i.high < median.low
    )
    return ShapeObservation(SHAPE_PROBABILITIES, band, apart)


def _read_at(side: dict[str, Measurement], p50: QuantileEvidence, q: float) -> QuantileEvidence:
    """The p50's counts read at q: the side's own measurement of q when it holds the very same counts, so the
    draws its gate made are reused (same counts, same seeds: the same interval), else `p50.at(q)`."""
    for measurement in side.values():
        evidence = measurement.evidence
        if isinstance(evidence, QuantileEvidence) and evidence.q == q and evidence.same_counts(p50):
            return evidence
    return p50.at(q)
