"""The decision matrix: gate results → GO / CAUTION / NO-GO, the rollout plan, waivers and rollback criteria.

Any critical FAIL or NO_DATA is NO-GO (fail closed); otherwise anything short of PASS is CAUTION with the
spec's CAUTION plan (slow by default); only all-PASS is GO with the GO plan (standard). A warning gate with an
unexpired waiver does not keep the verdict from GO; an expired waiver is ignored. A run that could not be
evaluated at all (e.g. Prometheus unreachable) is NO-GO and says why.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from validator.judge import rollback
from validator.judge.gates import GateResult, Status
from validator.spec import RolloutPlan, RolloutSpec, Waiver


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


DEFAULT_ROLLOUT = RolloutSpec()


class WaiverState(StrEnum):
    APPLIED = "applied"  # the gate was short and the waiver let it stand
    NOT_NEEDED = "not needed"  # the gate passed on its own
    EXPIRED = "expired"  # ignored: the gate counts as it was judged


@dataclass(frozen=True)
class WaiverUse:
    """A waiver of the spec and what it did in this run."""

    waiver: Waiver
    state: WaiverState
    status: Status | None  # the waived gate's own status (None: the gate was not evaluated)


@dataclass(frozen=True)
class MatrixRow:
    """One row of the decision matrix: its plan and the gates of this run that fall in it."""

    decision: Decision
    plan: str
    gates: tuple[str, ...]
    chosen: bool


@dataclass(frozen=True)
class Verdict:
    """The decision with its reasons, the rollout plan and when a canary must be rolled back."""

    decision: Decision
    rollout: RolloutPlan
    reasons: tuple[str, ...]
    rollback_criteria: tuple[rollback.Criterion, ...] = field(default_factory=tuple)
    could_not_evaluate: str | None = None
    incomplete: str | None = None  # where an interrupted run stopped
    waivers: tuple[WaiverUse, ...] = ()  # every waiver of the spec and what it did
    matrix: tuple[MatrixRow, ...] = ()  # the decision matrix with this run's gates in their rows

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
    *,
    rollout: RolloutSpec = DEFAULT_ROLLOUT,
    waivers: Sequence[Waiver] = (),
    today: datetime.date | None = None,
) -> Verdict:
    """Apply the decision matrix of DESIGN.md to the gate results.

    `measurement_warnings` (e.g. a saturated load generator, a lost load worker) say the figures rest
    on a doubtful measurement: they keep the verdict from being GO (at most CAUTION) and are listed.
    A waiver unexpired on `today` (UTC) lets its warning gate stand short; the plan comes from `rollout`.
    """
    uses = waiver_uses(results, waivers, today or datetime.datetime.now(datetime.UTC).date())
    waived = {use.waiver.gate for use in uses if use.state == WaiverState.APPLIED}
    blocking = [r for r in results if r.critical and r.status in (Status.FAIL, Status.NO_DATA)]
    doubtful = [r for r in results if r.status != Status.PASS and r not in blocking and r.gate.name not in waived]
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
    elif waived:
        decision = Decision.GO
        reasons = [
            f"{len(results) - len(waived)} gates PASS and {len(waived)} warning gate(s) stand short under a waiver: "
            + ", ".join(f"'{name}'" for name in sorted(waived))
        ]
    else:
        decision = Decision.GO
        reasons = [f"all {len(results)} gates PASS: every bound is met at its confidence level"]
    reasons += [f"measurement warning: {warning}" for warning in measurement_warnings]
    criteria = _rollback_criteria(results)
    plan = rollout.plan_for(decision.value)
    stopped = ["incomplete"] * bool(incomplete) + ["could not evaluate"] * bool(could_not_evaluate)
    matrix = _matrix(decision, rollout, results, (blocking, doubtful), waived, measurement_warnings, stopped)
    return Verdict(decision, plan, tuple(reasons), criteria, could_not_evaluate, incomplete, uses, matrix)


def waiver_uses(
    results: Sequence[GateResult], waivers: Sequence[Waiver], today: datetime.date
) -> tuple[WaiverUse, ...]:
    """What each waiver did: applied to a short warning gate, not needed, or expired (and so ignored)."""
    statuses = {r.gate.name: r.status for r in results if not r.critical}
    uses = []
    for waiver in waivers:
        status = statuses.get(waiver.gate)
        if waiver.expired(today):
            state = WaiverState.EXPIRED
        else:
            state = WaiverState.NOT_NEEDED if status == Status.PASS else WaiverState.APPLIED
        uses.append(WaiverUse(waiver, state, status))
    return tuple(uses)


def _matrix(
    decision: Decision,
    rollout: RolloutSpec,
    results: list[GateResult],
    short: tuple[list[GateResult], list[GateResult]],
    waived: set[str],
    measurement_warnings: Sequence[str],
    stopped: list[str],
) -> tuple[MatrixRow, ...]:
    """The three rows, each naming what of this run falls in it (gates, measurement doubts); the decision's row
    is the chosen one."""
    blocking, doubtful = short
    passing = tuple(r.gate.name for r in results if r.status == Status.PASS or r.gate.name in waived)
    caution = tuple(r.gate.name for r in doubtful) + ("measurement",) * bool(measurement_warnings)
    no_go = tuple(stopped) + tuple(r.gate.name for r in blocking)
    return (
        MatrixRow(Decision.GO, rollout.go, passing, decision == Decision.GO),
        MatrixRow(Decision.CAUTION, rollout.caution, caution, decision == Decision.CAUTION),
        MatrixRow(Decision.NO_GO, "none", no_go, decision == Decision.NO_GO),
    )


def _rollback_criteria(results: list[GateResult]) -> tuple[rollback.Criterion, ...]:
    """What to watch during the canary: the critical gates' bounds as limits on the canary's live figures (a
    relative bound from the baseline or pinned reference figure this run was compared with)."""
    critical = [r for r in results if r.critical]
    figures = {r.gate.measurement_key: rollback.BaselineFigure(r.baseline.estimate) for r in critical if r.baseline}
    references = {
        r.gate.measurement_key: rollback.BaselineFigure(r.reference.estimate) for r in critical if r.reference
    }
    return rollback.criteria([r.gate for r in critical], figures, references)
