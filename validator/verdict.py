"""The decision matrix: gate results → GO / CAUTION / NO-GO, the rollout strategy and rollback criteria.

Any critical FAIL or NO_DATA is NO-GO (fail closed); otherwise anything short of PASS is CAUTION
with the slow rollout; only all-PASS is GO with the standard rollout. A run that could not be
evaluated at all (e.g. Prometheus unreachable) is NO-GO and says why.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from validator.gates import GateResult, Status
from validator.units import format_value


class Decision(StrEnum):
    GO = "GO"
    CAUTION = "CAUTION"
    NO_GO = "NO-GO"


class ExitCode(IntEnum):
    """The documented exit codes of `slagate run` (and `run_validation.sh`)."""

    GO = 0
    NO_GO = 1
    USAGE = 2
    CAUTION = 3
    COULD_NOT_EVALUATE = 4
    INCOMPLETE = 5  # stopped by a signal: what was measured is kept, the verdict is never GO


@dataclass(frozen=True)
class Rollout:
    """A canary rollout plan: traffic percentages per step, or none at all."""

    name: str
    steps: tuple[int, ...]
    advice: str

    def describe(self) -> str:
        if not self.steps:
            return f"{self.name}: {self.advice}"
        return f"{self.name}: {' → '.join(f'{step} %' for step in self.steps)} — {self.advice}"


ROLLOUTS = {
    Decision.GO: Rollout("standard", (5, 25, 50, 100), "promote step by step while the rollback criteria hold"),
    Decision.CAUTION: Rollout(
        "slow", (1, 5, 25, 50, 100), "hold each step longer and watch the gates that were not PASS"
    ),
    Decision.NO_GO: Rollout("none", (), "do not roll out; fix the failing gates and validate again"),
}


@dataclass(frozen=True)
class Verdict:
    """The decision with its reasons, the rollout plan and when a canary must be rolled back."""

    decision: Decision
    rollout: Rollout
    reasons: tuple[str, ...]
    rollback_criteria: tuple[str, ...] = field(default_factory=tuple)
    could_not_evaluate: str | None = None
    incomplete: str | None = None  # where an interrupted run stopped

    def exit_code(self, caution_exit_code: int = ExitCode.CAUTION) -> int:
        """0 GO, 1 NO-GO, 3 CAUTION (or the given code), 4 when the run could not be evaluated, 5 interrupted."""
        if self.incomplete:
            return ExitCode.INCOMPLETE
        if self.could_not_evaluate:
            return ExitCode.COULD_NOT_EVALUATE
        return {Decision.GO: ExitCode.GO, Decision.CAUTION: caution_exit_code, Decision.NO_GO: ExitCode.NO_GO}[
            self.decision
        ]


def decide(
    results: list[GateResult],
    could_not_evaluate: str | None = None,
    measurement_warnings: Sequence[str] = (),
    incomplete: str | None = None,
) -> Verdict:
    """Apply the decision matrix of DESIGN.md to the gate results.

    `measurement_warnings` (e.g. a saturated load generator, a lost load worker) say the figures rest
    on a doubtful measurement: they keep the verdict from being GO (at most CAUTION) and are listed.
    """
    blocking = [r for r in results if r.critical and r.status in (Status.FAIL, Status.NO_DATA)]
    doubtful = [r for r in results if r.status != Status.PASS and r not in blocking]
    if incomplete or could_not_evaluate or blocking or not results:
        decision = Decision.NO_GO
        reasons = [f"incomplete: {incomplete}"] if incomplete else []
        reasons += [f"could not evaluate: {could_not_evaluate}"] if could_not_evaluate else []
        reasons += [f"critical gate '{r.gate.name}' is {r.status}: {r.reason}" for r in blocking]
        if not results:
            reasons.append("no gate was evaluated")
    elif doubtful or measurement_warnings:
        decision = Decision.CAUTION
        reasons = [f"{r.gate.severity} gate '{r.gate.name}' is {r.status}: {r.reason}" for r in doubtful]
    else:
        decision = Decision.GO
        reasons = [f"all {len(results)} gates PASS: every bound is met at its confidence level"]
    reasons += [f"measurement warning: {warning}" for warning in measurement_warnings]
    criteria = _rollback_criteria(results)
    return Verdict(decision, ROLLOUTS[decision], tuple(reasons), criteria, could_not_evaluate, incomplete)


def _rollback_criteria(results: list[GateResult]) -> tuple[str, ...]:
    """What to watch during the canary: the critical gates' bounds, applied to the canary's live figures."""
    criteria = []
    for result in results:
        gate, unit = result.gate, result.gate.metric.unit
        if not result.critical:
            continue
        if gate.max is not None:
            criteria.append(f"roll back if {gate.name} exceeds {format_value(gate.max, unit)} at any step")
        if gate.min is not None:
            criteria.append(f"roll back if {gate.name} falls below {format_value(gate.min, unit)} at any step")
        if gate.max_regression is not None:
            direction = "above" if gate.metric.higher_is_worse else "below"
            criteria.append(
                f"roll back if {gate.name} is more than {gate.max_regression * 100:g} % {direction} "
                "the stable version's during a step"
            )
    return tuple(criteria)
