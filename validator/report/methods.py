"""Words for interval methods: the sentence the report shows for a structured `Method`, and its JSON form."""

import dataclasses
from typing import Any

from validator.stats.intervals import Method, MethodKind, RunNoiseFloor

_NAMES = {
    MethodKind.EXACT: "exact bootstrap percentile (order statistic over the bucket CDF)",
    MethodKind.WILSON: "Wilson score",
    MethodKind.NEWCOMBE: "Newcombe hybrid score (difference of Wilson intervals)",
    MethodKind.GARWOOD: "exact Poisson (Garwood)",
    MethodKind.RATE_RATIO: "exact conditional binomial (Clopper-Pearson on count share)",
    MethodKind.SINGLE_VALUE: "none (single PromQL value)",
}
_BETWEEN_RUNS = "Student t, each side's variance from the spread of the runs' own estimates"
_RATIO = "bootstrap percentile of the ratio (independent draws)"


def describe(method: Method) -> str:
    """The method as the report's sentence: what computed the interval, with every parameter that shaped it."""
    text = _computation(method)
    if method.ratio:
        text = (
            f"ratio of independent {text}"
            if method.kind != MethodKind.EXACT
            else f"{_RATIO} of exact order-statistic draws"
        )
    if method.auto:
        text = f"auto → {text}"
    if method.bucket_share is not None:
        text += f"; widened to bucket edges ({method.bucket_share * 100:.0f} % of the width is bucket width)"
    if method.run_noise is not None:
        text += f"; {_run_noise(method.run_noise)}"
    return text


def method_parameters(method: Method) -> dict[str, Any]:
    """The method as JSON: its kind and every parameter (the sentence is `describe`)."""
    return {**dataclasses.asdict(method), "kind": method.kind.value}


def _computation(method: Method) -> str:
    windows = method.windows
    if method.kind == MethodKind.BLOCK:
        text = (
            f"circular block bootstrap over {'+'.join(map(str, windows))} windows "
            f"(block {'/'.join(map(str, method.blocks))}, {method.resamples} resamples)"
        )
        spread = method.spread
        if spread is not None:
            text += (
                f", spread ×{spread.factor:.2f} (correlation beyond the blocks ×{spread.correlation:.2f}, "
                f"Student-t for {spread.blocks} blocks ×{spread.calibration:.2f})"
            )
        return text
    if method.kind == MethodKind.HIERARCHICAL:
        return (
            f"hierarchical bootstrap: {len(windows)} runs resampled with replacement, each run's "
            f"{'/'.join(map(str, windows))} windows kept together ({method.resamples} resamples)"
        )
    if method.kind == MethodKind.BETWEEN_RUNS:
        runs = method.runs
        if runs is None:
            return _BETWEEN_RUNS
        unit = "%" if runs.log_scale else "pp"
        floor = f", raised to the least one run can vary, {runs.min_run_sd * 100:.2f} {unit}" if runs.floored else ""
        if runs.baseline_runs == 0:
            return (
                f"Student t from the spread of the candidate's {runs.candidate_runs} runs' own estimates "
                f"({runs.freedom} df; one run's SD {runs.run_sd * 100:.2f} {unit}{floor}; standard error "
                f"{runs.standard_error * 100:.2f} {unit})"
            )
        what = "ratio" if runs.log_scale else "difference"
        return (
            f"{_BETWEEN_RUNS} ({runs.candidate_runs} + {runs.baseline_runs} runs pooled, {runs.freedom} df; one run's "
            f"SD {runs.run_sd * 100:.2f} {unit}{floor}; standard error of the {what} "
            f"{runs.standard_error * 100:.2f} {unit})"
        )
    return _NAMES[method.kind]


def _run_noise(noise: RunNoiseFloor) -> str:
    if not noise.included or noise.sd is None:
        return "run-to-run noise not included (baseline holds one run)"
    shown = f"{noise.sd * 100:.2f} %" if noise.log_scale else f"{noise.sd * 100:.3f} pp"
    return (
        f"widened by the baseline's run-to-run noise floor (σ {shown}, {noise.runs} runs; "
        f"{noise.candidate_runs} candidate run(s))"
    )
