"""Baselines of several runs: pooled evidence, run-to-run noise, schema version."""

import math

import numpy as np
import pytest

from validator.baseline.file import SCHEMA_VERSION, baseline_document, load_baseline, pool_runs, write_baseline
from validator.evidence import Measurement, ProportionEvidence, QuantileEvidence

BOUNDS = np.append(0.001 * 1.01 ** np.arange(400), math.inf)


def run(rng: np.random.Generator, scale: float) -> dict[str, Measurement]:
    latencies = rng.lognormal(math.log(0.01 * scale), 0.3, (25, 400))
    index = np.searchsorted(BOUNDS, latencies)
    matrix = np.cumsum(np.stack([np.bincount(row, minlength=BOUNDS.size) for row in index]), axis=1).astype(float)
    evidence = QuantileEvidence(0.5, tuple(BOUNDS), tuple(matrix.sum(axis=0)), (matrix,))
    return {
        "latency_p50": Measurement("latency_p50", "test", evidence),
        "success_rate": Measurement("success_rate", "test", ProportionEvidence(9_990, 10_000)),
    }


def test_pooled_runs_keep_each_runs_windows_and_measure_the_noise_between_them():
    rng = np.random.default_rng(1)
    pooled = pool_runs([run(rng, scale) for scale in (0.95, 1.0, 1.05)])
    p50 = pooled["latency_p50"]
    assert len(p50.evidence.windows) == 3 and p50.evidence.total == 30_000
    assert 0.03 < p50.run_noise.sd < 0.07 and p50.run_noise.runs == 3  # log-scale SD of ±5 %
    assert pooled["success_rate"].evidence.runs == 3 and pooled["success_rate"].run_noise.sd == 0.0


def test_a_metric_missing_from_one_run_is_missing():
    rng = np.random.default_rng(2)
    first, second = run(rng, 1.0), run(rng, 1.0)
    second["success_rate"] = Measurement("success_rate", "test", None, "the query returned no series")
    assert pool_runs([first, second])["success_rate"].evidence is None


def test_baseline_round_trips_noise_and_windows(tmp_path):
    rng = np.random.default_rng(3)
    document = baseline_document("demo", "1.0.0", pool_runs([run(rng, 1.0), run(rng, 1.02)]), 0.95, {})
    path = write_baseline(document, tmp_path)
    loaded = load_baseline(path)
    assert loaded.measurements["latency_p50"].run_noise.runs == 2
    assert len(loaded.measurements["latency_p50"].evidence.windows) == 2
    assert document["schema_version"] == SCHEMA_VERSION == 3


def test_baseline_stores_the_interval_the_report_shows(tmp_path):
    rng = np.random.default_rng(4)
    measurements = pool_runs([run(rng, 1.0), run(rng, 1.0)])
    document = baseline_document("demo", "1.0.0", measurements, 0.95, {})
    stored = document["metrics"]["success_rate"]["interval"]
    shown = measurements["success_rate"].evidence.interval(0.90)  # one-sided 95 % bounds: the 90 % interval
    assert stored["coverage"] == pytest.approx(0.90)
    assert stored["low"] == pytest.approx(shown.low, rel=1e-3) and stored["high"] == pytest.approx(shown.high, rel=1e-3)
    loaded = load_baseline(write_baseline(document, tmp_path))
    assert loaded.measurements["success_rate"].evidence.estimate() == measurements["success_rate"].evidence.estimate()
