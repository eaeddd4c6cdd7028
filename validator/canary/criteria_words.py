"""Words for rollback criteria (gate bounds applied to live figures): the report's sentences, the alert
summaries, and the criterion as verdict.json carries it (the values, the sentence and the PromQL)."""

from typing import Any

from validator.canary import live_promql
from validator.judge.gates import CheckKind
from validator.judge.rollback import DIFFERENCE_UNITS, Criterion
from validator.spec import PrometheusSpec
from validator.spec.units import format_value


def tolerance_text(criterion: Criterion) -> str:
    """The tolerance of a relative bound: '15 %' of a ratio, '0.5 pp' of a proportion."""
    tolerance = criterion.tolerance or 0.0
    if criterion.gate.metric.unit in DIFFERENCE_UNITS:
        return f"{tolerance * 100:g} pp"
    return f"{tolerance * 100:g} %"


def bound_phrase(criterion: Criterion) -> str:
    """The breach in a few words: 'p99 latency above 250 ms (max)', 'p95 latency above 75.2 ms (baseline
    1.0.0 65.4 ms + 15 %)', 'p95 latency above 81.8 ms (reference 1.0.0 65.4 ms + 25 %)'."""
    gate, unit = criterion.gate, criterion.gate.metric.unit
    side = "above" if criterion.upper else "below"
    if not criterion.relative:
        return f"{gate.name} {side} {format_value(criterion.limit or 0.0, unit)} ({criterion.bound})"
    sign = "+" if criterion.upper else "−"
    drift = criterion.bound == CheckKind.MAX_DRIFT
    if criterion.limit is None or criterion.baseline is None:
        against = "the pinned reference's" if drift else "the stable version's"
        return f"{gate.name} more than {tolerance_text(criterion)} {side} {against}"
    version = f" {criterion.baseline.version}" if criterion.baseline.version else ""
    return (
        f"{gate.name} {side} {format_value(criterion.limit, unit)} ({'reference' if drift else 'baseline'}{version} "
        f"{format_value(criterion.baseline.estimate, unit)} {sign}{tolerance_text(criterion)})"
    )


def rollback_sentence(criterion: Criterion, window: str) -> str:
    """One criterion as the report's rollback section says it."""
    if criterion.relative and criterion.limit is None:
        return f"roll back if {bound_phrase(criterion)} during a step (no baseline figure to make it a limit)"
    return f"roll back if {bound_phrase(criterion)} over {window} at any step"


def watch_sentence(criterion: Criterion, window: str) -> str:
    """What to do when the criterion is breached: roll back on a critical gate, hold and look on a warning one."""
    if criterion.critical:
        return rollback_sentence(criterion, window)
    return f"hold the rollout and look if {bound_phrase(criterion)} over {window} (a warning gate)"


def criterion_document(criterion: Criterion, prometheus: PrometheusSpec, window: str) -> dict[str, Any]:
    """verdict.json's form of one rollback criterion: the values, its sentence and its PromQL."""
    gate = criterion.gate
    baseline = criterion.baseline
    return {
        "gate": gate.name,
        "metric": gate.metric.name,
        "severity": gate.severity,
        "bound": criterion.bound,
        "breach": "above" if criterion.upper else "below",
        "limit": criterion.limit,
        "unit": gate.metric.unit,
        "tolerance": criterion.tolerance,
        "baseline": None if baseline is None else {"estimate": baseline.estimate, "version": baseline.version},
        "window": window,
        "text": rollback_sentence(criterion, window),
        "promql": live_promql.criterion_expr(prometheus, criterion, window),
    }
