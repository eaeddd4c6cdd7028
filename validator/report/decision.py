"""Words for the decision: the rollout plan in a line and as a stage table, the decision matrix with this run's
row marked, and the waivers with what each did."""

from typing import Any

from validator.judge.gates import GateResult, Status
from validator.judge.verdict import Decision, MatrixRow, Verdict, WaiverState
from validator.report.markdown import cell
from validator.spec import RolloutPlan

ADVICE = {
    Decision.GO: "promote stage by stage while the rollback criteria hold",
    Decision.CAUTION: "hold every stage its full time and watch the gates that were not PASS",
    Decision.NO_GO: "do not roll out; fix what stopped the run and validate again",
}
CONDITIONS = {
    Decision.GO: "every gate PASS (a warning gate may stand short under an unexpired waiver)",
    Decision.CAUTION: "no critical gate FAIL or NO_DATA, but a warning gate short, a critical gate marginal (WARN) "
    "or the measurement in doubt",
    Decision.NO_GO: "a critical gate FAIL or NO_DATA, or the run could not be evaluated or was interrupted",
}


def hold_text(seconds: float) -> str:
    """A hold time as people say it: 1 h, 30 min, 1 d 12 h, none."""
    if seconds <= 0:
        return "none"
    minutes = round(seconds / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{minutes} min"] * bool(minutes)
    return " ".join(parts) or f"{seconds:g} s"


def percent_text(share: float) -> str:
    return f"{share:g} %"


def plan_line(verdict: Verdict) -> str:
    """`standard: 5 % → 25 % → 50 % → 100 %, 1 h holds — promote …` (or `none: do not roll out …`)."""
    plan, advice = verdict.rollout, ADVICE[verdict.decision]
    if not plan.stages:
        return f"{plan.name}: {advice}"
    steps = " → ".join(percent_text(stage.traffic_percent) for stage in plan.stages)
    return f"{plan.name}: {steps}, {_holds(plan)} — {advice}"


def _holds(plan: RolloutPlan) -> str:
    holds = {stage.hold_s for stage in plan.stages}
    if len(holds) == 1:
        return f"{hold_text(holds.pop())} holds"
    return "holds " + " / ".join(hold_text(stage.hold_s) for stage in plan.stages)


def stage_rows(verdict: Verdict, results: list[GateResult]) -> list[dict[str, str]]:
    """One row per stage: traffic, hold, what to watch (the rollback criteria and any gate short of PASS), who
    decides."""
    criteria = len(verdict.rollback_criteria)
    watch = f"the {criteria} rollback criteria below" if criteria else "the gates' figures (no rollback criterion)"
    short = [r for r in results if r.status != Status.PASS]
    if short:
        watch += "; closely: " + ", ".join(f"{r.gate.name} ({r.status.value})" for r in short)
    return [
        {
            "stage": str(number),
            "traffic": percent_text(stage.traffic_percent),
            "hold": hold_text(stage.hold_s),
            "watch": cell(watch),
            "decides": cell(stage.decides),
        }
        for number, stage in enumerate(verdict.rollout.stages, 1)
    ]


def matrix_rows(verdict: Verdict) -> list[dict[str, str]]:
    """The three rows of the decision matrix, this run's in bold with the gates that put it there."""
    return [_matrix_row(row) for row in verdict.matrix]


def _matrix_row(row: MatrixRow) -> dict[str, str]:
    names = cell(", ".join(row.gates)) or "—"
    mark = "**" if row.chosen else ""
    return {
        "mark": "▶" if row.chosen else "",
        "condition": f"{mark}{CONDITIONS[row.decision]}{mark}",
        "decision": f"{mark}{row.decision.value}{mark}",
        "plan": f"{mark}{cell(row.plan)}{mark}",
        "gates": names,
    }


def waiver_rows(verdict: Verdict) -> list[dict[str, str]]:
    """Every waiver of the spec: gate, its status, what the waiver did, reason, approver, expiry."""
    effect = {
        WaiverState.APPLIED: "**applied**: the gate stands short without keeping the verdict from GO",
        WaiverState.NOT_NEEDED: "not needed: the gate PASSed",
        WaiverState.EXPIRED: "**expired: ignored**, the gate counts as judged",
    }
    return [
        {
            "gate": cell(use.waiver.gate),
            "status": "not evaluated" if use.status is None else use.status.value,
            "effect": effect[use.state],
            "reason": cell(use.waiver.reason),
            "approved_by": cell(use.waiver.approved_by),
            "expires": use.waiver.expires.isoformat(),
        }
        for use in verdict.waivers
    ]


def waiver_warnings(verdict: Verdict) -> list[str]:
    """One line per expired waiver, for the terminal and the top of the report."""
    return [
        f"waiver for '{use.waiver.gate}' expired on {use.waiver.expires.isoformat()} and was ignored "
        f"(approved by {use.waiver.approved_by})"
        for use in verdict.waivers
        if use.state == WaiverState.EXPIRED
    ]


def decision_context(verdict: Verdict, results: list[GateResult]) -> dict[str, Any]:
    """What the template's decision part shows."""
    return {
        "plan_line": cell(plan_line(verdict)),
        "stages": stage_rows(verdict, results),
        "matrix": matrix_rows(verdict),
        "waivers": waiver_rows(verdict),
        "waiver_warnings": [cell(w) for w in waiver_warnings(verdict)],
    }


def rollout_document(verdict: Verdict) -> dict[str, Any]:
    """verdict.json's `rollout`: the plan's name, its traffic steps, and each stage with its hold and decider."""
    plan = verdict.rollout
    return {
        "strategy": plan.name,
        "steps_percent": list(plan.steps),
        "stages": [
            {"traffic_percent": s.traffic_percent, "hold_s": s.hold_s, "decides": s.decides} for s in plan.stages
        ],
    }


def waivers_document(verdict: Verdict) -> list[dict[str, Any]]:
    """verdict.json's `waivers`: each waiver of the spec and what it did in this run."""
    return [
        {
            "gate": use.waiver.gate,
            "reason": use.waiver.reason,
            "approved_by": use.waiver.approved_by,
            "expires": use.waiver.expires.isoformat(),
            "state": use.state.value,
            "gate_status": None if use.status is None else use.status.value,
        }
        for use in verdict.waivers
    ]
