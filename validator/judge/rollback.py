"""What the canary is watched against: each gate bound as a limit on the live figure, a value (never prose).

An absolute bound (`max`, `min`) is its own limit. A bound relative to the baseline (`max_regression`) becomes
the baseline's figure moved by the tolerance: × (1 ± tolerance) for a ratio metric (latency, throughput, a
custom query), ± tolerance for a proportion (success rate, compared as a difference in percentage points).
The same values feed the verdict's rollback criteria, the alert rules and the dashboard's thresholds.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from validator.baseline.file import Baseline
from validator.judge.gates import CheckKind
from validator.spec import GateSpec

DIFFERENCE_UNITS = ("ratio",)  # proportions: a regression is a difference, not a ratio


@dataclass(frozen=True)
class BaselineFigure:
    """The baseline's point estimate of one metric, and which baseline it comes from."""

    estimate: float
    version: str | None = None


@dataclass(frozen=True)
class Criterion:
    """One gate bound applied to the live figure: roll back (alert) when the figure is beyond `limit`.

    `limit` is None when a relative bound has no baseline figure.
    """

    gate: GateSpec
    bound: CheckKind
    limit: float | None
    baseline: BaselineFigure | None = None

    @property
    def upper(self) -> bool:
        """True when the figure must stay at or below the limit (breach = above)."""
        if self.bound == CheckKind.MAX_REGRESSION:
            return self.gate.metric.higher_is_worse
        return self.bound == CheckKind.MAX

    @property
    def relative(self) -> bool:
        return self.bound == CheckKind.MAX_REGRESSION

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


def regression_limit(gate: GateSpec, baseline: float) -> float:
    """The live figure at which `gate`'s max_regression is reached, from the baseline's figure."""
    if gate.metric.unit in DIFFERENCE_UNITS:
        return baseline + gate.regression_limit("difference")
    return baseline * gate.regression_limit("ratio")


def criteria(gates: Iterable[GateSpec], baselines: Mapping[str, BaselineFigure]) -> tuple[Criterion, ...]:
    """Every bound of every gate as a criterion; `baselines` holds the baseline's figure per measurement key (the
    metric, with the gate's route or selector when it has one)."""
    found = []
    for gate in gates:
        if gate.max is not None:
            found.append(Criterion(gate, CheckKind.MAX, gate.max))
        if gate.min is not None:
            found.append(Criterion(gate, CheckKind.MIN, gate.min))
        if gate.max_regression is not None:
            figure = baselines.get(gate.measurement_key)
            limit = None if figure is None else regression_limit(gate, figure.estimate)
            found.append(Criterion(gate, CheckKind.MAX_REGRESSION, limit, figure))
    return tuple(found)
