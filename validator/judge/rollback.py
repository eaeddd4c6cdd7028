"""What the canary is watched against: each gate bound as a limit on the live figure, a value (never prose).

An absolute bound (`max`, `min`) is its own limit. A bound relative to a baseline becomes that baseline's figure
moved by the tolerance: `max_regression` from the current baseline, `max_drift` from the pinned reference; × (1 ±
tolerance) for a ratio metric (latency, throughput, a custom query), ± tolerance for a proportion (success rate,
compared as a difference in percentage points).
The same values feed the verdict's rollback criteria, the alert rules and the dashboard's thresholds.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from validator.baseline.file import Baseline
from validator.judge.gates import RELATIVE, CheckKind, relative_tolerance
from validator.spec import GateSpec

DIFFERENCE_UNITS = ("ratio",)  # proportions: a regression is a difference, not a ratio


@dataclass(frozen=True)
class BaselineFigure:
    """A baseline's point estimate of one metric, and which baseline it comes from (the current one, or the pinned
    reference for `max_drift`)."""

    estimate: float
    version: str | None = None


@dataclass(frozen=True)
class Criterion:
    """One gate bound applied to the live figure: roll back (alert) when the figure is beyond `limit`.

    `limit` is None when a relative bound has no baseline figure; `baseline` is the figure a relative bound moves
    from (the pinned reference's for `max_drift`).
    """

    gate: GateSpec
    bound: CheckKind
    limit: float | None
    baseline: BaselineFigure | None = None

    @property
    def upper(self) -> bool:
        """True when the figure must stay at or below the limit (breach = above)."""
        if self.relative:
            return self.gate.metric.higher_is_worse
        return self.bound == CheckKind.MAX

    @property
    def relative(self) -> bool:
        """True for a bound relative to a baseline (`max_regression`, `max_drift`)."""
        return self.bound in RELATIVE

    @property
    def tolerance(self) -> float | None:
        """The relative bound's tolerance (None for an absolute bound)."""
        return relative_tolerance(self.gate, self.bound)

    @property
    def critical(self) -> bool:
        return self.gate.severity == "critical"


def baseline_figures(baseline: Baseline | None) -> dict[str, BaselineFigure]:
    """The baseline's point estimate of every figure it holds, by measurement key ({} without a baseline)."""
    if baseline is None:
        return {}
    return {
        name: BaselineFigure(m.evidence.estimate(), baseline.version)
        for name, m in baseline.measurements.items()
        if m.evidence is not None
    }


def relative_limit(gate: GateSpec, bound: CheckKind, baseline: float) -> float:
    """The live figure at which `gate`'s relative `bound` is reached, from the figure of the baseline it is
    relative to."""
    tolerance = relative_tolerance(gate, bound)
    if gate.metric.unit in DIFFERENCE_UNITS:
        return baseline + gate.relative_limit(tolerance, "difference")
    return baseline * gate.relative_limit(tolerance, "ratio")


def criteria(
    gates: Iterable[GateSpec],
    baselines: Mapping[str, BaselineFigure],
    references: Mapping[str, BaselineFigure] | None = None,
) -> tuple[Criterion, ...]:
    """Every bound of every gate as a criterion; `baselines` holds the current baseline's figure per measurement key
    (the metric, with the gate's route or selector when it has one), `references` the pinned reference's."""
    found = []
    for gate in gates:
        if gate.max is not None:
            found.append(Criterion(gate, CheckKind.MAX, gate.max))
        if gate.min is not None:
            found.append(Criterion(gate, CheckKind.MIN, gate.min))
        for bound, figures in ((CheckKind.MAX_REGRESSION, baselines), (CheckKind.MAX_DRIFT, references or {})):
            if relative_tolerance(gate, bound) is None:
                continue
            figure = figures.get(gate.measurement_key)
            limit = None if figure is None else relative_limit(gate, bound, figure.estimate)
            found.append(Criterion(gate, bound, limit, figure))
    return tuple(found)
