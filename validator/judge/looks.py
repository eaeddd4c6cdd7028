"""`repeat = "auto"`: each look of a run judged at its level, the stopping look's judgement, and what would decide
a bound still undecided at the last look.

The look at k candidate runs pools the first k runs and judges every gate with the one-sided level the error
spending gives that look (PASS and FAIL alike); `analysis.stopping_rule` says whether to stop. Re-judging a run
directory repeats the same looks: the runs, the baseline and the seeds are fixed.
"""

import dataclasses
import math
from collections.abc import Sequence

from validator.baseline.file import Baseline
from validator.judge import analysis
from validator.judge.baseline_compare import Comparability
from validator.judge.gates import CheckKind, GateResult, Status
from validator.judge.judgement import Judgement, judge_run
from validator.measure.record import MetricsRecord, pool_records
from validator.spec import Spec
from validator.stats.sequential import Plan, plan


def plan_for(spec: Spec, baseline: Baseline | None) -> Plan:
    """The looks of the spec's `repeat = "auto"` against this baseline (its runs set the information per look)."""
    load = spec.load
    return plan(load.min_repeat, load.max_repeat, spec.level, baseline_runs(baseline), load.spending)


def baseline_runs(baseline: Baseline | None) -> int | None:
    """How many runs the baseline's figures pool (None without a baseline)."""
    if baseline is None:
        return None
    runs = [m.evidence.runs for m in baseline.measurements.values() if m.evidence is not None]
    return max(runs, default=1)


def judge_look(
    spec: Spec,
    metrics: MetricsRecord,
    baseline: Baseline | None,
    runs: int,
    warnings: Sequence[str] = (),
    reference: Baseline | None = None,
) -> tuple[Judgement, analysis.Look]:
    """The judgement of the first `runs` runs pooled in `metrics`, at that look's level, and the look."""
    looks = plan_for(spec, baseline)
    level = looks.level_at(runs)
    judgement = judge_run(dataclasses.replace(spec, level=level), metrics, baseline, warnings, reference=reference)
    step = step_after(looks, runs, judgement.results)
    look = analysis.Look(step, _bounds(judgement.results), looks.spending, looks.last)
    return judgement, look


def step_after(looks: Plan, runs: int, results: Sequence[GateResult]) -> analysis.LookStep:
    """The step after the look at `runs` runs judged as `results`: stop when decided, at the last look, or when
    every undecided bound is one against the baseline that the last look would almost surely leave undecided."""
    statuses = [check.status for result in results for check in result.checks]
    undecided = [(result, check) for result in results for check in result.checks if check.status == Status.WARN]
    futile = bool(undecided) and all(
        check.kind == CheckKind.MAX_REGRESSION and analysis.futile(result.change, _limit(result), looks, runs)
        for result, check in undecided
    )
    return analysis.stopping_rule(looks, runs, statuses, futile)


def next_step(
    spec: Spec, records: Sequence[MetricsRecord], baseline: Baseline | None, reference: Baseline | None = None
) -> analysis.LookStep:
    """Whether the pipeline runs again after `records` (each run's record, in order)."""
    runs = len(records)
    if runs < spec.load.min_repeat:
        return analysis.LookStep(runs, spec.level, False, "before the first look")
    return judge_look(spec, pool_records(list(records)), baseline, runs, reference=reference)[1].step


def judge_looks(
    spec: Spec,
    metrics: MetricsRecord,
    records: Sequence[MetricsRecord],
    baseline: Baseline | None,
    warnings: Sequence[str] = (),
    comparability: Comparability | None = None,
    reference: Baseline | None = None,
) -> Judgement:
    """Every look of the run again, and the judgement of the last look (all its runs, pooled in `metrics`) with
    the looks attached; a bound still undecided at max_repeat carries what would decide it.

    The looks are the statistical decisions the pipeline stopped on; a baseline from another load profile caps
    the final judgement's relative checks (`comparability`) but is no reason to run again."""
    looks = [
        judge_look(spec, pool_records(list(records[:runs])), baseline, runs, reference=reference)[1]
        for runs in range(spec.load.min_repeat, len(records))
    ]
    runs = max(1, len(records))
    looks.append(judge_look(spec, metrics, baseline, runs, reference=reference)[1])
    level = looks[-1].step.level
    final = judge_run(dataclasses.replace(spec, level=level), metrics, baseline, warnings, comparability, reference)
    results = final.results
    if looks[-1].step.why in ("last look", "futile"):
        last_level = plan_for(spec, baseline).levels[-1]  # what max_repeat would have judged at
        results = [with_runs_needed(result, last_level) for result in results]
    return dataclasses.replace(final, results=results, looks=tuple(looks))


def with_runs_needed(result: GateResult, level: float) -> GateResult:
    """A WARN gate with the runs a side (or margin) that would decide its undecided bound against the baseline."""
    gate = result.gate
    if result.status != Status.WARN or gate.max_regression is None or result.change is None:
        return result
    if not any(check.status == Status.WARN and check.kind == CheckKind.MAX_REGRESSION for check in result.checks):
        return result
    needed = analysis.runs_needed(result.change, _limit(result), gate.max_regression, level)
    return dataclasses.replace(result, runs_needed=needed) if needed is not None else result


def _limit(result: GateResult) -> float:
    """The limit of the gate's bound against the baseline, as a ratio or a difference like its change."""
    return result.gate.regression_limit(result.change.kind if result.change is not None else "difference")


def _bounds(results: Sequence[GateResult]) -> tuple[analysis.BoundLook, ...]:
    found = []
    for result in results:
        for check in result.checks:
            against = check.kind == CheckKind.MAX_REGRESSION and result.change is not None
            interval = result.change.interval if against and result.change else result.value
            kind = result.change.kind if against and result.change else "value"
            ends = (None, None, None) if interval is None else (interval.estimate, interval.low, interval.high)
            estimate, low, high = (x if x is not None and math.isfinite(x) else None for x in ends)
            unit = result.gate.metric.unit
            found.append(
                analysis.BoundLook(result.gate.name, check.bound, check.status, estimate, low, high, kind, unit)
            )
    return tuple(found)
