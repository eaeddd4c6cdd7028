"""One gate → PASS / WARN / FAIL / NO_DATA, judged on confidence intervals, with a one-line reason.

A bound is one-sided, so it is judged on a one-sided confidence bound: the matching end of the
two-sided interval at 2·level - 1. It passes only when that interval is wholly on the good side and
fails only when it is wholly on the bad side; an interval that straddles it is WARN. Missing data,
NaN or a baseline that cannot be compared is NO_DATA, which the verdict treats as failing closed.
"""

import dataclasses
import functools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from validator.evidence import DEFAULT_RESAMPLING, Change, Evidence, IncomparableEvidence, Measurement, QuantileEvidence
from validator.judge import analysis
from validator.judge.resolution import Resolution, bound_resolution, change_resolution
from validator.judge.status import Status
from validator.measure.client_figures import client_key
from validator.spec import GateSpec, Multiplicity, Resampling, Spec
from validator.spec.units import format_value
from validator.stats.intervals import Interval, interval_level, per_check_level
from validator.stats.quantiles import MIN_TAIL_OBSERVATIONS


class CheckKind(StrEnum):
    """What a check judges: an absolute bound, the change against the baseline, or whether there is enough data."""

    MAX = "max"
    MIN = "min"
    MAX_REGRESSION = "max_regression"
    MAX_DRIFT = "max_drift"
    ENOUGH_DATA = "enough_data"


RELATIVE = (CheckKind.MAX_REGRESSION, CheckKind.MAX_DRIFT)  # the checks against a baseline
_SEVERITY_ORDER = (Status.PASS, Status.WARN, Status.NO_DATA, Status.FAIL)
DEFAULT_PRECISION = 0.05  # without max_regression, "enough data" means the quantile is known to ± 5 %


@dataclass(frozen=True)
class Check:
    """One bound of a gate judged against one interval: what it judges (`kind`, the value logic reads), the bound
    as shown, its status and why."""

    kind: CheckKind
    bound: str
    status: Status
    reason: str


@dataclass(frozen=True)
class GateResult:
    """The outcome of a gate with every number the report shows and where each came from."""

    gate: GateSpec
    status: Status
    reason: str
    source: str
    value: Interval | None = None
    baseline: Interval | None = None
    change: Change | None = None
    checks: tuple[Check, ...] = field(default_factory=tuple)
    reference: Interval | None = None  # the pinned reference's figure that max_drift was judged against
    drift: Change | None = None  # the candidate against the pinned reference
    side: str = "server"  # whose figure `value` is: "server" (Prometheus) or "client" (the load generator)
    resolution: Resolution | None = None  # the server's buckets were too coarse to decide a bound
    beside: "GateResult | None" = None  # the other side's result, shown beside (source = "client" or "both")
    runs_needed: analysis.RunsNeeded | None = None  # repeat = "auto" left a bound undecided: what would decide it

    @property
    def critical(self) -> bool:
        return self.gate.severity == "critical"


def severity(status: Status) -> int:
    """The status's rank: PASS 0 < WARN < NO_DATA < FAIL."""
    return _SEVERITY_ORDER.index(status)


def worst(statuses: list[Status]) -> Status:
    """The most severe status: FAIL over NO_DATA over WARN over PASS."""
    return max(statuses, key=severity, default=Status.NO_DATA)


def judge_bound(interval: Interval, limit: float, upper: bool) -> Status:
    """PASS when the whole interval is within the limit, FAIL when wholly beyond it, else WARN."""
    low, high = interval.low, interval.high
    if any(math.isnan(x) for x in (low, high, limit)):
        return Status.NO_DATA
    good_edge, bad_edge = (high, low) if upper else (low, high)
    if (good_edge <= limit) if upper else (good_edge >= limit):
        return Status.PASS
    if (bad_edge > limit) if upper else (bad_edge < limit):
        return Status.FAIL
    return Status.WARN


def evaluate_gate(
    gate: GateSpec,
    measurement: Measurement | None,
    baseline: Measurement | None,
    bound_level: float,
    baseline_label: str | None = None,
    resampling: Resampling = DEFAULT_RESAMPLING,
    fail_bound_level: float | None = None,
    reference: Measurement | None = None,
    reference_label: str | None = None,
) -> GateResult:
    """Judge every bound of `gate` on the measurement's interval (and on the change against the baseline, and
    against the pinned reference for `max_drift`).

    Bounds are one-sided, so each is judged on a one-sided confidence bound: PASS needs the one-sided
    `bound_level` bound on the good side (the good end of the two-sided interval at 2·level - 1), FAIL needs
    the one-sided `fail_bound_level` bound (default: the same) on the bad side. So P(PASS) for a build exactly
    at a bound is about 1 - level, and so is P(FAIL). A quantile with too few observations beyond it is at best
    WARN ("insufficient data"), never PASS.
    """
    coverage = interval_level(bound_level)
    fail_coverage = interval_level(bound_level if fail_bound_level is None else fail_bound_level)
    unit = gate.metric.unit
    source = measurement.source if measurement else "no measurement"
    if measurement is None or measurement.evidence is None:
        why = measurement.error if measurement and measurement.error else "no measurement was taken"
        return GateResult(gate, Status.NO_DATA, f"no data: {why}", source)
    evidence = measurement.evidence
    value = analysis.value(evidence, coverage, resampling)
    if any(math.isnan(x) for x in (value.estimate, value.low, value.high)):
        return GateResult(gate, Status.NO_DATA, "no data: the measurement is NaN (no requests in the window?)", source)

    checks: list[Check] = []
    shown = _shown(value, unit)
    wider = functools.partial(analysis.value, evidence, fail_coverage, resampling)
    if gate.max is not None:
        status = _judged(value, wider, gate.max, True, fail_coverage != coverage)
        checks.append(
            Check(CheckKind.MAX, f"≤ {format_value(gate.max, unit)}", status,
                  f"{shown} vs max {format_value(gate.max, unit)}")
        )
    if gate.min is not None:
        status = _judged(value, wider, gate.min, False, fail_coverage != coverage)
        checks.append(
            Check(CheckKind.MIN, f"≥ {format_value(gate.min, unit)}", status,
                  f"{shown} vs min {format_value(gate.min, unit)}")
        )

    baseline_value, change, reference_value, drift = None, None, None, None
    if gate.max_regression is not None:
        check, baseline_value, change = _relative_check(
            gate, CheckKind.MAX_REGRESSION, evidence, baseline, (coverage, fail_coverage), baseline_label, resampling
        )
        checks.append(check)
    if gate.max_drift is not None:
        check, reference_value, drift = _relative_check(
            gate, CheckKind.MAX_DRIFT, evidence, reference, (coverage, fail_coverage), reference_label, resampling
        )
        checks.append(check)
    checks += _tail_checks(gate, measurement, baseline if gate.max_regression is not None else None, coverage)
    resolution = None
    if isinstance(evidence, QuantileEvidence):
        checks, resolution = _resolution_checks(gate, evidence, checks)

    status = worst([check.status for check in checks])
    deciding = next(check for check in checks if check.status == status)
    return GateResult(
        gate, status, deciding.reason, source, value, baseline_value, change, tuple(checks), reference_value, drift,
        resolution=resolution,
    )


def judge_gate(
    gate: GateSpec,
    measurements: Mapping[str, Measurement],
    baseline: Mapping[str, Measurement] | None,
    bound_level: float,
    baseline_label: str | None = None,
    resampling: Resampling = DEFAULT_RESAMPLING,
    fail_bound_level: float | None = None,
    reference: Mapping[str, Measurement] | None = None,
    reference_label: str | None = None,
) -> GateResult:
    """The gate judged on the figure its `source` names: the server's, the client's, or both (both must PASS; the
    worse decides). With `client` the server's result is kept beside it for the report."""
    base, pinned = baseline or {}, reference or {}

    def side(key: str, name: str) -> GateResult:
        result = evaluate_gate(gate, measurements.get(key), base.get(key), bound_level, baseline_label, resampling,
                               fail_bound_level, pinned.get(key), reference_label)
        return dataclasses.replace(result, side=name)

    server = side(gate.measurement_key, "server")
    if gate.source == "server":
        return server
    client = side(client_key(gate), "client")
    if gate.source in ("client", "corrected"):
        return dataclasses.replace(client, reason=f"{gate.source}: {client.reason}", beside=server)
    deciding, other = (client, server) if severity(client.status) > severity(server.status) else (server, client)
    return dataclasses.replace(deciding, reason=f"{deciding.side}: {deciding.reason}", beside=other)


def _resolution_checks(
    gate: GateSpec, evidence: QuantileEvidence, checks: list[Check]
) -> tuple[list[Check], Resolution | None]:
    """Bound checks the histogram's buckets cannot decide get a plain-words reason (which bucket, its edges,
    boundaries that would resolve it) and are never PASS."""
    found = None
    judged = []
    name = f"p{evidence.q * 100:g}"
    for check in checks:
        limit = {CheckKind.MAX: gate.max, CheckKind.MIN: gate.min}.get(check.kind)
        coarse = None
        if limit is not None and check.status != Status.FAIL:
            coarse = bound_resolution(evidence, limit)
        elif (tolerance := relative_tolerance(gate, check.kind)) is not None and check.status == Status.PASS:
            coarse = change_resolution(evidence, tolerance)
        if coarse is not None:
            found = found or coarse
            check = dataclasses.replace(check, status=Status.WARN, reason=_resolution_words(name, coarse))
        judged.append(check)
    return judged, found


def relative_tolerance(gate: GateSpec, kind: CheckKind) -> float | None:
    """The tolerance of `gate`'s relative check `kind` (`max_regression`, `max_drift`); None for an absolute bound
    or one the gate lacks."""
    return {CheckKind.MAX_REGRESSION: gate.max_regression, CheckKind.MAX_DRIFT: gate.max_drift}.get(kind)


def _resolution_words(name: str, r: Resolution) -> str:
    high = format_value(r.bucket_high, "s") if math.isfinite(r.bucket_high) else "+Inf"
    bucket = f"{format_value(r.bucket_low, 's')}–{high}"
    advice = (f"bucket boundaries at {', '.join(format_value(b, 's') for b in r.recommended)} would resolve it"
              if r.recommended else "finer buckets would resolve it")
    if r.limit is not None:
        return (f"coarse buckets: {name} lies in the server histogram's bucket {bucket} and the bound "
                f"{format_value(r.limit, 's')} is inside that bucket, so {format_value(r.estimate, 's')} is only a "
                f"linear interpolation and cannot show on which side of the bound {name} is; {advice} "
                '(or judge the gate with source = "client")')
    unbounded = r.bucket_low <= 0 or not math.isfinite(r.bucket_high)
    width = "unbounded ratio" if unbounded else f"×{r.bucket_high / r.bucket_low:.2g} wide"
    return (f"coarse buckets: {name} lies in the server histogram's bucket {bucket} ({width}), wider than the "
            f"tolerated {(r.tolerance or 0) * 100:g} % change, so a regression inside that bucket would not move the "
            f"figure; {advice} (or judge the gate with source = \"client\")")


def _judged(interval: Interval, wider: Callable[[], Interval], limit: float, upper: bool, separate: bool) -> Status:
    """judge_bound() with PASS on `interval` and FAIL only if the wider (family-wise) interval is beyond too.

    The wider interval contains the narrower one, so it is computed only when the narrower says FAIL.
    """
    status = judge_bound(interval, limit, upper)
    if status != Status.FAIL or not separate:
        return status
    return Status.FAIL if judge_bound(wider(), limit, upper) == Status.FAIL else Status.WARN


def _tail_checks(
    gate: GateSpec, measurement: Measurement, baseline: Measurement | None, coverage: float
) -> list[Check]:
    """WARN "insufficient data" for each side whose quantile has fewer than 30 observations beyond it."""
    checks = []
    precision = gate.max_regression / 2 if gate.max_regression else DEFAULT_PRECISION
    for side, item in (("candidate", measurement), ("baseline", baseline)):
        evidence = item.evidence if item is not None else None
        if not isinstance(evidence, QuantileEvidence) or evidence.tail_observations() >= MIN_TAIL_OBSERVATIONS:
            continue
        needed = evidence.required_requests(precision, coverage)
        reason = (
            f"insufficient data: the {side} has {evidence.total:.0f} requests, {evidence.tail_observations():.0f} "
            f"beyond p{evidence.q * 100:g} (< {MIN_TAIL_OBSERVATIONS}); about {needed:,} requests are needed "
            f"to know it to ± {precision * 100:g} %"
        )
        checks.append(Check(CheckKind.ENOUGH_DATA, "enough data", Status.WARN, reason))
    return checks


_AGAINST = {  # a relative check: what it compares with, as its bound and its missing-data reasons say
    CheckKind.MAX_REGRESSION: (
        "baseline", "no baseline data", "no baseline is configured (the spec has no [baseline] file)"
    ),
    CheckKind.MAX_DRIFT: (
        "reference", "no reference data", "no reference baseline is configured (baseline.reference)"
    ),
}


def _relative_check(
    gate: GateSpec,
    kind: CheckKind,
    evidence: Evidence,
    baseline: Measurement | None,
    coverages: tuple[float, float],
    label: str | None,
    resampling: Resampling,
) -> tuple[Check, Interval | None, Change | None]:
    """The change against a baseline judged against its tolerance: `max_regression` against the current baseline,
    `max_drift` against the pinned reference (`kind`)."""
    coverage, fail_coverage = coverages
    tolerance = relative_tolerance(gate, kind)
    assert tolerance is not None
    worse_is_higher = gate.metric.higher_is_worse
    noun, missing, unconfigured = _AGAINST[kind]
    regression = functools.partial(
        Check, kind, f"{'+' if worse_is_higher else '−'}{tolerance * 100:g} % vs {noun}"
    )
    if baseline is None or baseline.evidence is None:
        if label is None:
            why = unconfigured
        else:
            why = baseline.error if baseline and baseline.error else f"{label} has no figure for {gate.metric.name}"
        return regression(Status.NO_DATA, f"{missing}: {why}"), None, None
    try:
        change = analysis.change(evidence, baseline.evidence, coverage, resampling, baseline.run_noise)
    except IncomparableEvidence as error:
        return regression(Status.NO_DATA, f"cannot compare with {label}: {error}"), None, None
    baseline_side = dataclasses.replace(resampling, seed=resampling.seed + 1)  # the draws its ratio used
    baseline_value = baseline.evidence.interval(coverage, baseline_side)
    limit = gate.relative_limit(tolerance, change.kind)
    if change.kind == "ratio":
        shown = f"ratio {change.interval.estimate:.3f} [{change.interval.low:.3f}, {change.interval.high:.3f}]"
        limit_text = f"{limit:.3f}"
    else:
        pp = change.interval
        shown = f"change {pp.estimate * 100:+.3f} pp [{pp.low * 100:+.3f}, {pp.high * 100:+.3f}]"
        limit_text = f"{limit * 100:+.3f} pp"
    wider_change = functools.partial(
        analysis.change, evidence, baseline.evidence, fail_coverage, resampling, baseline.run_noise
    )
    status = _judged(
        change.interval, lambda: wider_change().interval, limit, worse_is_higher, fail_coverage != coverage
    )
    relation = "≤" if worse_is_higher else "≥"
    return regression(status, f"{shown} vs {label}, limit {relation} {limit_text}"), baseline_value, change


def _shown(interval: Interval, unit: str) -> str:
    return (
        f"{format_value(interval.estimate, unit)} "
        f"[{format_value(interval.low, unit)}, {format_value(interval.high, unit)}]"
    )


@dataclass(frozen=True)
class FailLevel:
    """The one-sided level a bound's FAIL is judged at, and how it was chosen from the spec's level."""

    level: float
    bound_level: float  # the spec's level, at which PASS is judged
    multiplicity: Multiplicity  # "margin": FAIL at the spec's level; "bonferroni": split over the critical bounds
    critical_bounds: int


def fail_level(spec: Spec) -> FailLevel:
    """The level a bound's FAIL is judged at under the spec's multiplicity setting."""
    return bounds_fail_level(spec.gates, spec.level, spec.multiplicity)


def bounds_fail_level(
    gates: Iterable[GateSpec], bound_level: float, multiplicity: Multiplicity = "margin"
) -> FailLevel:
    """`margin`: the spec's own level, since a same-build comparison sits a whole margin away from FAIL;
    `bonferroni`: the level split over the bounds of critical gates (only their FAIL makes a NO-GO), for a
    guarantee even when every bound is met exactly."""
    checks = sum(
        (g.max is not None) + (g.min is not None) + (g.max_regression is not None)
        for g in gates
        if g.severity == "critical"
    )
    if multiplicity == "margin" or checks <= 1:
        return FailLevel(bound_level, bound_level, "margin", checks)
    return FailLevel(per_check_level(bound_level, checks), bound_level, "bonferroni", checks)
