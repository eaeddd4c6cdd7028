"""Words for `repeat = "auto"`: each look (runs so far, level, each bound's interval and decision), why the runs
stopped, and what would decide a bound left undecided at the last look."""

from typing import Any

from validator.judge.analysis import FUTILE_POWER, BoundLook, Look, RunsNeeded
from validator.report.markdown import cell
from validator.spec.units import format_value

_WHY = {
    "decided": "every bound was PASS or FAIL at this look's level",
    "last look": "max_repeat reached; undecided bounds stay WARN",
    "futile": "as the runs stand, max_repeat would leave every undecided bound WARN too (under "
    f"{FUTILE_POWER * 100:.0f} % chance of a decision): stopped early; they stay WARN",
    "undecided": "a bound was still WARN: one more run",
}
_SPENDING = {"obrien_fleming": "O'Brien–Fleming-type", "pocock": "Pocock-type"}


def looks_lines(looks: tuple[Look, ...]) -> list[str]:
    """The Markdown of the looks section: a sentence, then a table row per look and bound."""
    if not looks:
        return []
    last = looks[-1]
    spending = _SPENDING.get(last.spending, last.spending)
    lines = [
        f"`repeat = \"auto\"`: {len(looks)} look(s), stopped after {last.step.runs} of at most {last.max_repeat} "
        f"runs — {stop_sentence(last)}. Each look judges every bound at the one-sided level that Lan–DeMets "
        f"{spending} error spending gives it (PASS and FAIL alike), so over all looks a build exactly at a bound "
        "PASSes it, or FAILs it, at most 5 % of the time.",
        "",
        "| Runs | Level | Gate | Bound | Interval | Decision | Step |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for look in looks:
        for index, bound in enumerate(look.bounds):
            step = look.step.why if index == 0 else ""
            lines.append(
                f"| {look.step.runs} | {look.step.level * 100:.2f} % | {cell(bound.gate)} | {cell(bound.bound)} | "
                f"{interval_text(bound)} | {bound.status} | {step} |"
            )
    return lines


def stop_sentence(look: Look) -> str:
    """Why the runs stopped at this look."""
    return _WHY.get(look.step.why, look.step.why)


def interval_text(bound: BoundLook) -> str:
    if bound.estimate is None or bound.low is None or bound.high is None:
        return "—"
    if bound.kind == "difference":
        return f"{bound.estimate * 100:+.3f} pp [{bound.low * 100:+.3f}, {bound.high * 100:+.3f}]"
    if bound.kind == "ratio":
        return f"×{bound.estimate:.3f} [{bound.low:.3f}, {bound.high:.3f}]"
    shown = (format_value(x, bound.unit) for x in (bound.estimate, bound.low, bound.high))
    return "{} [{}, {}]".format(*shown)


def runs_needed_sentence(needed: RunsNeeded) -> str:
    """What would decide a bound: the run-to-run noise measured, the margin, runs a side or a wider margin."""
    unit = "%" if needed.log_scale else "pp"
    noise = f"one run varies by {needed.run_sd * 100:.1f} {unit} (run-to-run noise and sampling)"
    limit = f"a {needed.margin * 100:g} % margin"
    distance = f"the estimate is {needed.distance * 100:.1f} {unit} from the limit of {limit}"
    margin = f"a margin of {needed.margin_needed * 100:.0f} {unit}"
    if needed.runs_a_side is None:
        runs = "no number of runs decides an estimate sitting on the limit"
    else:
        runs = f"≈ {needed.runs_a_side} runs a side would decide it at the {needed.level * 100:.4g} % level"
    return f"{noise}; {distance}; {runs}, or {margin} with the runs at hand"


def runs_needed_document(needed: RunsNeeded | None) -> dict[str, Any] | None:
    """verdict.json's `runs_needed` of a gate: the values and the sentence."""
    if needed is None:
        return None
    return {
        "run_sd": needed.run_sd,
        "distance": needed.distance,
        "margin": needed.margin,
        "runs_a_side": needed.runs_a_side,
        "margin_needed": needed.margin_needed,
        "log_scale": needed.log_scale,
        "level": needed.level,
        "text": runs_needed_sentence(needed),
    }


def looks_document(looks: tuple[Look, ...]) -> list[dict[str, Any]] | None:
    """verdict.json's `looks`: per look the runs, level, step and each bound's interval and decision."""
    if not looks:
        return None
    return [
        {
            "runs": look.step.runs,
            "level": look.step.level,
            "stop": look.step.stop,
            "why": look.step.why,
            "text": stop_sentence(look),
            "spending": look.spending,
            "max_repeat": look.max_repeat,
            "bounds": [
                {
                    "gate": b.gate,
                    "bound": b.bound,
                    "status": b.status,
                    "kind": b.kind,
                    "estimate": b.estimate,
                    "low": b.low,
                    "high": b.high,
                    "unit": b.unit,
                }
                for b in look.bounds
            ],
        }
        for look in looks
    ]
