"""The baseline file's schema-3 body: a summary per metric for reviewers, then the evidence, then the counts.

`metrics` holds, per metric, the rounded estimate and interval (with its coverage), the interval's method,
the runs and the run-to-run noise: the lines a reviewer reads and a diff shows first. `evidence` says what
each figure rests on; a quantile names a shared entry of `histograms`, which holds the bucket bounds, the
pooled bucket counts and, per run, one count row per window (`validator.compact`), so p50, p95 and p99 of
one histogram store its counts once. A run of more than 300 windows keeps them merged `merged` at a time
(a 1-hour run in 12-second windows): the runs' own totals are exact, and the block bootstrap resamples
blocks of whole merged windows.
"""

import math
from typing import Any

import numpy as np

from validator import compact
from validator.evidence import Evidence, Measurement, QuantileEvidence, RunNoise, checked, evidence_from_dict

MAX_WINDOWS_PER_RUN = 300  # longer runs keep their counts in windows of ⌈n/300⌉ consecutive seconds
SUMMARY_DIGITS = 4  # significant digits of an estimate or interval end in the summary
NOISE_DIGITS = 3


def significant(value: float, digits: int = SUMMARY_DIGITS) -> float | None:
    """`value` rounded to `digits` significant digits; None for NaN or infinite (JSON has no NaN)."""
    if not math.isfinite(value):
        return None
    return float(f"{value:.{digits}g}")


def rounded(value: float, width: float) -> float | None:
    """`value` to 4 significant digits, or finer when the interval's `width` needs it (two digits of the width:
    a success rate of 0.99995 stays 0.99995); None for NaN or infinite."""
    if not math.isfinite(value):
        return None
    decimals = SUMMARY_DIGITS - 1 - math.floor(math.log10(abs(value))) if value else 0
    if math.isfinite(width) and width > 0:
        decimals = max(decimals, 1 - math.floor(math.log10(width)))
    return float(round(value, decimals))


def summary_entry(measurement: Measurement, coverage: float) -> dict[str, Any]:
    """What a reviewer reads about one metric: estimate, interval and coverage, method, runs, run-to-run noise."""
    entry: dict[str, Any] = {}
    evidence = measurement.evidence
    if evidence is not None:
        interval = evidence.interval(coverage)
        width = interval.high - interval.low
        entry["estimate"] = rounded(interval.estimate, width)
        entry["interval"] = {
            "low": rounded(interval.low, width),
            "high": rounded(interval.high, width),
            "coverage": round(coverage, 6),
        }
        entry["method"] = interval.method.kind.value
        entry["runs"] = evidence.runs
    noise = measurement.run_noise
    entry["run_noise"] = None if noise is None else {"sd": significant(noise.sd, NOISE_DIGITS), "runs": noise.runs}
    entry["error"] = measurement.error
    entry["source"] = measurement.source
    return entry


def encode_evidence(measurements: dict[str, Measurement]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(evidence per metric, shared histograms) for the file, in metric-name order."""
    evidence: dict[str, Any] = {}
    histograms: dict[str, Any] = {}
    seen: list[tuple[QuantileEvidence, str]] = []
    for name, measurement in sorted(measurements.items()):
        item = measurement.evidence
        if item is None:
            evidence[name] = None
        elif isinstance(item, QuantileEvidence):
            key = next((k for other, k in seen if _same_counts(other, item)), None)
            if key is None:
                key = "latency" if not seen else f"latency_{len(seen) + 1}"
                seen.append((item, key))
                histograms[key] = _encode_histogram(item)
            evidence[name] = {"kind": item.kind, "q": item.q, "histogram": key}
        else:
            evidence[name] = _plain(item.to_dict())
    return evidence, histograms


def decode_measurements(document: dict[str, Any]) -> dict[str, Measurement]:
    """The measurements of a schema-3 document (already schema-checked); ValueError/KeyError when inconsistent."""
    histograms = {key: _decode_histogram(entry) for key, entry in document.get("histograms", {}).items()}
    measurements = {}
    for name, summary in document["metrics"].items():
        data = document["evidence"].get(name)
        evidence: Evidence | None
        if data is None:
            evidence = None
        elif data["kind"] == "quantile":
            bounds, counts, windows = histograms[data["histogram"]]
            evidence = QuantileEvidence(float(data["q"]), bounds, counts, windows)
        else:
            evidence = evidence_from_dict(data)
        noise = summary.get("run_noise")
        run_noise = None if noise is None or noise["sd"] is None else RunNoise(float(noise["sd"]), int(noise["runs"]))
        measurements[name] = Measurement(name, summary.get("source", ""), evidence, summary.get("error"), run_noise)
    return checked(measurements, "evidence")


def _plain(value: Any) -> Any:
    """Evidence as written: every number a whole count or rounded (no float noise), words and flags as they are."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, float) and math.isfinite(value):
        return compact.number(value)
    return value


def _same_counts(a: QuantileEvidence, b: QuantileEvidence) -> bool:
    return (
        a.upper_bounds == b.upper_bounds
        and a.cumulative_counts == b.cumulative_counts
        and len(a.windows) == len(b.windows)
        and all(np.array_equal(x, y) for x, y in zip(a.windows, b.windows, strict=True))
    )


def _encode_histogram(evidence: QuantileEvidence) -> dict[str, Any]:
    bounds = ["+Inf" if math.isinf(b) else b for b in evidence.upper_bounds]
    pooled = np.diff(np.asarray(evidence.cumulative_counts, dtype=float), prepend=0.0)
    runs = []
    for run in evidence.windows:
        merged = max(1, math.ceil(run.shape[0] / MAX_WINDOWS_PER_RUN))
        windows = np.add.reduceat(run, np.arange(0, run.shape[0], merged), axis=0) if run.shape[0] else run
        rows = [compact.encode_row(row) for row in np.diff(windows, axis=1, prepend=0.0)]
        runs.append({"merged": merged, "windows": rows})
    return {"upper_bounds": bounds, "counts": compact.encode_row(pooled), "runs": runs}


def _decode_histogram(entry: dict[str, Any]) -> tuple[tuple[float, ...], tuple[float, ...], tuple[np.ndarray, ...]]:
    bounds = tuple(float(b) for b in entry["upper_bounds"])
    size = len(bounds)
    counts = tuple(float(c) for c in np.cumsum(compact.decode_row(entry["counts"], size)))
    windows = tuple(
        np.cumsum(np.array([compact.decode_row(row, size) for row in run["windows"]]).reshape(-1, size), axis=1)
        for run in entry["runs"]
    )
    return bounds, counts, windows
