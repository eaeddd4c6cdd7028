"""Long runs at scale: a synthetic 1-hour soak at 10 k req/s written as real artifacts and judged by the real pipeline.

36 M requests in 3,600 one-second windows over 4 endpoints: `load.json` (client histograms per window and per
endpoint, written by `LoadResult.write`), `metrics.json` (Prometheus bucket counts per window, as the range query
gives them, written by `MetricsRecord.write`) and a 3-run baseline of the same shape (`baseline record`'s writer).
The judging then runs in a fresh process, stage by stage as `pipeline.finish` runs them: read the spec and the
baseline, read metrics.json, the measurement checks (reading every load.json), every gate (block method), and the
report rendered (report.md, verdict.json, junit.xml, charts). It prints sizes, times and the judging process's peak
RSS, a 10-minute row beside the hour (cost linear in windows), and as its last line
`soak_scale: <judge ms> ms, <MB> MB load.json, <MB> MB peak`.

Usage: .venv/bin/python benchmarks/soak_scale.py [--minutes 60 10] [--rate 10000]
"""

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import validator.cli  # noqa: F401, I001  (locust's gevent patching must come first)
from validator import pipeline
from validator.baseline.file import baseline_document, pool_runs, write_baseline
from validator.evidence import Measurement, ProportionEvidence, QuantileEvidence, RateEvidence
from validator.judge.judgement import judge_run
from validator.judge.run import RunArtifacts
from validator.load.histogram import _KEYS_PER_OCTAVE, MICROSECONDS_PER_SECOND, LatencyHistogram
from validator.load.result import LOAD_FILE, LoadResult
from validator.measure.record import METRICS_FILE, MetricsRecord
from validator.prometheus import Window
from validator.report.render import write_reports

ROOT = Path(__file__).resolve().parents[1]
ENDPOINTS = ("/api/items", "/api/items/{id}", "/api/search", "/api/checkout")
MEDIAN_S, SIGMA, AR1_PHI, AR1_SD, ERROR_RATE = 0.020, 0.5, 0.7, 0.05, 0.001
BOUNDS = np.append(np.round(0.001 * 1.05 ** np.arange(160), 6), math.inf)  # a fine classic histogram, 161 buckets
ORIGIN = 1_800_000_000.0
SPEC = """\
[service]
name = "soak"
version = "2.0.0"
[target]
url = "http://127.0.0.1:8080"
[load]
locustfile = {locustfile}
users = 1000
duration = "{seconds}s"
warmup = "0s"
[prometheus]
url = "http://127.0.0.1:9090"
latency_histogram = "http_request_duration_seconds"
request_counter = "http_requests_total"
[baseline]
file = {baseline}
[confidence]
method = "block"
[[gates]]
name = "p99 latency"
metric = "latency_p99"
max = "250ms"
max_regression = "15%"
[[gates]]
name = "p95 latency"
metric = "latency_p95"
max = "150ms"
max_regression = "15%"
[[gates]]
name = "median latency"
metric = "latency_p50"
severity = "warning"
max_regression = "15%"
[[gates]]
name = "success rate"
metric = "success_rate"
min = "99%"
[[gates]]
name = "throughput"
metric = "throughput"
severity = "warning"
min = "100/s"
max_regression = "10%"
"""


def generate(rng: np.random.Generator, seconds: int, rate: int, client: bool) -> tuple[dict, dict | None]:
    """One run: its Prometheus measurements, and (with `client`) the load.json document of its client capture."""
    level, matrix = 0.0, np.zeros((seconds, BOUNDS.size))
    windows, endpoint_counts = [], {name: {} for name in ENDPOINTS}
    endpoint_sums = dict.fromkeys(ENDPOINTS, 0.0)
    endpoint_range = {name: [math.inf, 0.0] for name in ENDPOINTS}
    failures_total = 0
    for second in range(seconds):
        level = AR1_PHI * level + rng.normal(0, AR1_SD * math.sqrt(1 - AR1_PHI**2))
        values = rng.lognormal(math.log(MEDIAN_S) + level, SIGMA, rate)
        matrix[second] = np.cumsum(np.bincount(np.searchsorted(BOUNDS, values), minlength=BOUNDS.size))
        failures = int(rng.binomial(rate, ERROR_RATE))
        failures_total += failures
        if not client:
            continue
        micros = values * MICROSECONDS_PER_SECOND
        keys = np.ceil(np.log2(micros) * _KEYS_PER_OCTAVE).astype(np.int64)
        unique, counts = np.unique(keys, return_counts=True)
        histogram = LatencyHistogram.from_buckets(unique, counts, float(micros.sum()), micros.min(), micros.max())
        windows.append(
            {"index": second, "successes": rate - failures, "failures": failures, "histogram": histogram.to_dict()}
        )
        endpoint = rng.integers(len(ENDPOINTS), size=rate)
        for number, name in enumerate(ENDPOINTS):
            mine = keys[endpoint == number]
            found, found_counts = np.unique(mine, return_counts=True)
            store = endpoint_counts[name]
            for key, count in zip(found.tolist(), found_counts.tolist(), strict=True):
                store[key] = store.get(key, 0) + count
            theirs = micros[endpoint == number]
            endpoint_sums[name] += float(theirs.sum())
            extremes = endpoint_range[name]
            extremes[:] = [min(extremes[0], float(theirs.min())), max(extremes[1], float(theirs.max()))]
    total = seconds * rate
    window = Window(ORIGIN, ORIGIN + seconds)
    measured = {
        name: Measurement(
            name, "synthetic soak", QuantileEvidence(q, tuple(BOUNDS), tuple(matrix.sum(axis=0)), (matrix,))
        )
        for name, q in (("latency_p50", 0.5), ("latency_p95", 0.95), ("latency_p99", 0.99))
    }
    measured["success_rate"] = Measurement(
        "success_rate", "synthetic soak", ProportionEvidence(total - failures_total, total)
    )
    measured["throughput"] = Measurement("throughput", "synthetic soak", RateEvidence(total, seconds))
    record = {"window": window, "measurements": measured}
    if not client:
        return record, None
    endpoints = {}
    for name in ENDPOINTS:
        keys, counts = (np.array(x, dtype=np.int64) for x in zip(*sorted(endpoint_counts[name].items()), strict=True))
        low, high = endpoint_range[name]
        histogram = LatencyHistogram.from_buckets(keys, counts, endpoint_sums[name], low, high)
        endpoints[name] = {"requests": int(counts.sum()), "failures": 0, "histogram_us": histogram.to_dict()}
    load = {
        "schema_version": 3,
        "origin": ORIGIN,
        "window": {"start": ORIGIN, "end": ORIGIN + seconds, "seconds": float(seconds)},
        "profile": {"model": "closed", "locustfile": str(ROOT / "loadtests/locustfile.py"), "users": 1000,
                    "spawn_rate": 1000.0, "duration_s": float(seconds), "warmup_s": 0.0, "workers": 1,
                    "target": "http://127.0.0.1:8080", "mean_wait_s": 0.08},
        "generator": {"locust_version": "synthetic", "processes": 1, "mode": "in-process", "python": "3",
                      "worker_exits": []},
        "endpoints": endpoints,
        "errors": [],
        "timeline": {"origin": ORIGIN, "window_seconds": 1.0, "windows": windows},
        "corrected_timeline": None,
        "late_sends_timeline": None,
        "health_samples": {"master": [[ORIGIN + s / 2, 40.0, 1.0] for s in range(2 * seconds)]},
        "workers": [],
        "locust_requests": total,
        "interrupted": None,
    }  # fmt: skip
    return record, load


def build(folder: Path, seconds: int, rate: int) -> tuple[Path, Path, Path]:
    """Write the candidate's run folder, its 3-run baseline and the spec; returns (run dir, spec, baseline)."""
    rng = np.random.default_rng(20261202)
    baseline_runs = [generate(rng, seconds, rate, client=False)[0]["measurements"] for _ in range(3)]
    document = baseline_document("soak", "1.0.0", pool_runs(baseline_runs), 0.95, {"run_ids": ["b1", "b2", "b3"]})
    baseline = write_baseline(document, folder / "baselines", overwrite=True)
    record, load = generate(rng, seconds, rate, client=True)
    run_dir = folder / "run"
    run_dir.mkdir(exist_ok=True)
    LoadResult.from_dict(load).write(run_dir)
    MetricsRecord("http://127.0.0.1:9090", record["window"], record["measurements"]).write(run_dir)
    spec = folder / "sla.toml"
    spec.write_text(SPEC.format(locustfile=json.dumps(str(ROOT / "loadtests/locustfile.py")), seconds=seconds,
                                baseline=json.dumps(str(baseline))))  # fmt: skip
    return run_dir, spec, baseline


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM, MB): unlike ru_maxrss it starts afresh at exec, so the judging
    process does not inherit the peak of the generator that forked it."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def judge(run_dir: Path, spec_path: Path) -> dict[str, float]:
    """`pipeline.finish`'s stages, timed (ms), and this process's peak RSS (MB)."""
    times, start = {}, time.perf_counter()

    def lap(name: str) -> None:
        nonlocal start
        now = time.perf_counter()
        times[name] = (now - start) * 1000
        peaks.append(f"{name} {peak_rss_mb():.0f}")
        start = now

    peaks = [f"imports {peak_rss_mb():.0f}"]

    spec, baseline = pipeline.load_inputs(spec_path)
    lap("read spec + baseline")
    metrics = MetricsRecord.read(run_dir)
    lap("read metrics.json")
    checks = pipeline.assess_measurement(run_dir, metrics, spec)
    load = LoadResult.read(run_dir)
    lap("read load.json + checks")
    judgement = judge_run(spec, metrics, baseline, checks.warnings)
    lap("judge")
    write_reports(
        RunArtifacts(run_dir, spec, judgement, metrics, load, baseline, judgement.verdict.exit_code(), checks)
    )
    lap("render")
    times["peak RSS MB"] = peak_rss_mb()
    times["peak RSS after each stage (MB)"] = ", ".join(peaks)  # type: ignore[assignment]
    times["decision"] = judgement.verdict.decision.value  # type: ignore[assignment]
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, nargs="+", default=[60, 10])
    parser.add_argument("--rate", type=int, default=10_000)
    parser.add_argument("--judge", nargs=2, metavar=("RUN_DIR", "SPEC"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.judge:
        print(json.dumps(judge(Path(args.judge[0]), Path(args.judge[1]))))
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="soak_scale.") as temporary:
        for minutes in args.minutes:
            folder = Path(temporary) / f"{minutes}m"
            folder.mkdir()
            started = time.perf_counter()
            run_dir, spec, baseline = build(folder, minutes * 60, args.rate)
            built = time.perf_counter() - started
            judged = subprocess.run(
                [sys.executable, __file__, "--judge", str(run_dir), str(spec)],
                capture_output=True,
                text=True,
                check=False,
            )
            if judged.returncode != 0:
                sys.exit(f"soak_scale: judging the {minutes}-minute run failed:\n{judged.stderr[-3000:]}")
            figures = json.loads(judged.stdout.strip().splitlines()[-1])
            sizes = {
                "load.json MB": (run_dir / LOAD_FILE).stat().st_size / 1e6,
                "load.json lines": len((run_dir / LOAD_FILE).read_text().splitlines()),
                "metrics.json MB": (run_dir / METRICS_FILE).stat().st_size / 1e6,
                "baseline KB": baseline.stat().st_size / 1e3,
                "baseline lines": len(baseline.read_text().splitlines()),
            }
            rows.append((minutes, {**sizes, **figures, "generated in s": built}))
            print(f"{minutes} min: {json.dumps({**sizes, **figures}, default=str)}", file=sys.stderr)
    _print_table(rows, args.rate)
    hour = dict(rows[0][1])
    judged, size, peak = hour["judge"], hour["load.json MB"], hour["peak RSS MB"]
    print(f"soak_scale: {judged:.0f} ms, {size:.1f} MB load.json, {peak:.0f} MB peak")


def _print_table(rows: list[tuple[int, dict]], rate: int) -> None:
    columns = ["load.json MB", "load.json lines", "metrics.json MB", "baseline KB", "baseline lines",
               "read spec + baseline", "read metrics.json", "read load.json + checks", "judge", "render",
               "peak RSS MB", "decision"]  # fmt: skip
    print(f"| run ({rate:,} req/s) | " + " | ".join(columns) + " |")
    print("| --- " * (len(columns) + 1) + "|")
    for minutes, figures in rows:
        cells = [f"{figures[c]:.1f}" if isinstance(figures[c], float) else str(figures[c]) for c in columns]
        print(f"| {minutes} min, {minutes * 60:,} windows | " + " | ".join(cells) + " |")
    print("(times in ms; judge = every gate, block method; render = report.md, verdict.json, junit.xml, charts)")


if __name__ == "__main__":
    main()
