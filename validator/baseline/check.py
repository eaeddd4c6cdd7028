"""A baseline's internal consistency, beyond its JSON Schema: what a reviewer reads matches the counts.

Every summarised metric has evidence and every quantile's histogram exists; bucket bounds rise; the
windows' counts add up to the pooled counts (within Prometheus's extrapolation of `increase()`); the
runs agree everywhere they are stated; the summary's estimate is the one its counts give; the window is
ordered. Each problem is (key path, what was expected).
"""

import math
from typing import Any

import numpy as np

from validator.evidence import Measurement, ProportionEvidence, QuantileEvidence

ESTIMATE_TOLERANCE = 1e-3  # relative: the summary keeps 4 significant digits
EXTRAPOLATION_TOLERANCE = 0.05  # increase() extrapolates to the window's edges; raw windows do not

Problem = tuple[str, str]


def structure_problem(document: dict[str, Any]) -> Problem | None:
    """A reference that points nowhere, or bucket bounds that do not rise, before anything is decoded."""
    metrics, evidence, histograms = document["metrics"], document["evidence"], document.get("histograms", {})
    for name in metrics:
        if name not in evidence:
            return f"evidence.{name}", f"the evidence of metric {name} (summarised in metrics.{name})"
    for name in evidence:
        if name not in metrics:
            return f"metrics.{name}", f"a summary of metric {name} (it has evidence)"
        entry = evidence[name]
        if entry is not None and entry["kind"] == "quantile" and entry["histogram"] not in histograms:
            return f"evidence.{name}.histogram", f"one of the histograms {sorted(histograms)}"
    for key, histogram in histograms.items():
        bounds = [math.inf if b == "+Inf" else float(b) for b in histogram["upper_bounds"]]
        if any(after <= before for before, after in zip(bounds, bounds[1:], strict=False)):
            return f"histograms.{key}.upper_bounds", "strictly rising bucket bounds"
    return None


def consistency_problem(document: dict[str, Any], measurements: dict[str, Measurement]) -> Problem | None:
    """The first inconsistency between the summary, the evidence and the counts, or None."""
    window = document["provenance"].get("window")
    if isinstance(window, dict) and not window.get("start", 0) <= window.get("end", 0):
        return "provenance.window", "a window whose start is not after its end"
    run_ids = document["provenance"].get("run_ids") or []
    for name, measurement in sorted(measurements.items()):
        problem = _metric_problem(name, measurement, document["metrics"][name], len(run_ids))
        if problem is not None:
            return problem
    return None


def _metric_problem(name: str, measurement: Measurement, summary: dict[str, Any], recorded_runs: int) -> Problem | None:
    evidence = measurement.evidence
    key = f"metrics.{name}"
    if evidence is None:
        return None if summary.get("error") else (f"{key}.error", "why the metric has no evidence")
    if summary.get("runs") != evidence.runs:
        return f"{key}.runs", f"{evidence.runs} (the runs its evidence holds), got {summary.get('runs')!r}"
    noise = measurement.run_noise
    if noise is not None and noise.runs != evidence.runs:
        return f"{key}.run_noise.runs", f"{evidence.runs} (the runs its evidence holds), got {noise.runs}"
    if isinstance(evidence, QuantileEvidence):
        problem = _counts_problem(name, evidence, recorded_runs)
        if problem is not None:
            return problem
    if isinstance(evidence, ProportionEvidence) and not 0 <= evidence.successes <= evidence.total:
        return f"evidence.{name}", "successes between 0 and total"
    stated, recomputed = summary.get("estimate"), evidence.estimate()
    if stated is None:
        return None if not math.isfinite(recomputed) else (f"{key}.estimate", f"{recomputed:.4g} (from its counts)")
    if not math.isclose(stated, recomputed, rel_tol=ESTIMATE_TOLERANCE, abs_tol=1e-12):
        return f"{key}.estimate", f"{recomputed:.4g} (what its counts give), got {stated!r}"
    return None


def _counts_problem(name: str, evidence: QuantileEvidence, recorded_runs: int) -> Problem | None:
    key = f"evidence.{name}"
    counts = np.asarray(evidence.cumulative_counts, dtype=float)
    if np.any(np.diff(counts) < -1e-9):
        return f"{key} counts", "non-negative bucket counts"
    if not evidence.windows:
        return None
    if recorded_runs and len(evidence.windows) != recorded_runs:
        return f"{key} runs", f"{recorded_runs} runs of windows (provenance.run_ids), got {len(evidence.windows)}"
    windows_total = float(sum(run[:, -1].sum() for run in evidence.windows if run.size))
    if abs(windows_total - evidence.total) > max(1.0, EXTRAPOLATION_TOLERANCE * evidence.total):
        expected = f"windows adding up to the pooled {evidence.total:g} requests (± 5 %), got {windows_total:g}"
        return f"{key} windows", expected
    return None
