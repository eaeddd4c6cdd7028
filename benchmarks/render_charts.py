"""How long the report's charts take to render for a long, busy run (goal: all of them under 2 s).

A synthetic 10-minute load at 10,000 req/s (6 M requests in 600 one-second windows, 4 routes, two error bursts
of different categories, 30 s warm-up) with Prometheus-style bucket counts for the candidate and the baseline,
judged by the demo spec's gates, then every chart written by `validator.report.charts.write_charts`; and the
same for a 5-second run. Prints a table; the last line is `render_charts: <ms> ms` (the 10-minute run).

    .venv/bin/python benchmarks/render_charts.py [KEEP_DIR]    # KEEP_DIR/5s/, KEEP_DIR/600s/: the charts drawn
"""

import locust  # noqa: F401, I001  (gevent's patching first, as in the CLI)

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from validator.baseline.file import Baseline  # noqa: E402
from validator.demo.target import BUCKETS  # noqa: E402
from validator.evidence import Measurement, ProportionEvidence, QuantileEvidence, RateEvidence  # noqa: E402
from validator.judge.judgement import judge_run  # noqa: E402
from validator.load.capture import EndpointStats, ErrorGroup  # noqa: E402
from validator.load.histogram import LatencyHistogram, Timeline, bucket_key, upper_edges_us  # noqa: E402
from validator.load.result import LoadResult  # noqa: E402
from validator.measure.record import MetricsRecord  # noqa: E402
from validator.prometheus import Window  # noqa: E402
from validator.report.charts import write_charts  # noqa: E402
from validator.spec import load_spec  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ROUTES = ("GET /api/items", "GET /api/items/{id}", "GET /api/search", "POST /api/orders")
ORIGIN = 1_800_000_000.0


def _histogram(latencies_us: np.ndarray) -> LatencyHistogram:
    """A client histogram of these latencies, one record call per bucket (as fast as building it gets)."""
    histogram = LatencyHistogram()
    keys, counts = np.unique(np.ceil(np.log(latencies_us) / np.log(upper_edges_us(1))).astype(int), return_counts=True)
    for key, count in zip(keys, counts, strict=True):
        histogram.record(float(upper_edges_us(key)) * 0.9995, int(count))
    assert all(bucket_key(float(upper_edges_us(k)) * 0.9995) == k for k in keys[:3])
    return histogram


def synthetic_load(seconds: int, rate: int, warmup: int, rng: np.random.Generator) -> LoadResult:
    timeline = Timeline(ORIGIN)
    routes = {name: EndpointStats() for name in ROUTES}
    windows = []
    for index in range(seconds):
        latencies = rng.lognormal(np.log(20_000), 0.5, rate)
        failures = int(rate * 0.02) if seconds // 3 <= index < seconds // 3 + 20 else 0
        failures += int(rate * 0.01) if 2 * seconds // 3 <= index < 2 * seconds // 3 + 5 else 0
        histogram = _histogram(latencies)
        windows.append({"index": index, "successes": rate - failures, "failures": failures, "histogram": histogram})
        share = rng.multinomial(rate, [0.45, 0.3, 0.15, 0.1])
        for stats, n in zip(routes.values(), share, strict=True):
            stats.requests += int(n)
        routes[ROUTES[0]].histogram.merge(histogram)
    timeline = Timeline.from_dict(
        {
            "origin": ORIGIN,
            "window_seconds": 1.0,
            "windows": [{**w, "histogram": w["histogram"].to_dict()} for w in windows],
        }
    )
    for name in ROUTES[1:]:
        routes[name].histogram = _histogram(rng.lognormal(np.log(25_000), 0.6, 50_000))
    third = ORIGIN + seconds // 3
    errors = [
        ErrorGroup("GET /api/search", "503", "HTTPError", int(rate * 0.02) * 20, third, third + 19.9, "503 busy"),
        ErrorGroup(
            "POST /api/orders",
            "0",
            "ConnectionResetError",
            int(rate * 0.01) * 5,
            ORIGIN + 2 * seconds // 3,
            ORIGIN + 2 * seconds // 3 + 4.9,
            "reset by peer",
        ),
    ]
    profile = {
        "model": "closed",
        "users": 200,
        "spawn_rate": 200,
        "duration_s": seconds,
        "warmup_s": warmup,
        "target": "http://127.0.0.1:8080",
        "locustfile": "loadtests/locustfile.py",
    }
    return LoadResult(
        ORIGIN,
        ORIGIN + warmup,
        ORIGIN + seconds,
        profile,
        timeline,
        routes,
        errors,
        {"locust_version": "2", "processes": 2},
    )


def server_measurements(total: int, median_s: float, rng: np.random.Generator) -> dict[str, Measurement]:
    """Prometheus-style cumulative bucket counts of `total` lognormal latencies, plus success and throughput."""
    bounds = np.array([*BUCKETS, np.inf])
    sample = rng.lognormal(np.log(median_s), 0.5, 200_000)
    cumulative = np.searchsorted(np.sort(sample), bounds, side="right") * (total / len(sample))
    measurements = {
        name: Measurement(name, "synthetic buckets", QuantileEvidence(q, tuple(bounds), tuple(cumulative)))
        for name, q in (("latency_p50", 0.5), ("latency_p95", 0.95), ("latency_p99", 0.99))
    }
    measurements["success_rate"] = Measurement("success_rate", "synthetic", ProportionEvidence(total * 0.999, total))
    measurements["throughput"] = Measurement("throughput", "synthetic", RateEvidence(total, total / 10_000))
    return measurements


def render(seconds: int, rate: int, warmup: int, keep: Path | None = None) -> tuple[float, float, int]:
    rng = np.random.default_rng(7)
    load = synthetic_load(seconds, rate, warmup, rng)
    spec = load_spec(ROOT / "sla.toml")
    total = (seconds - warmup) * rate
    metrics = MetricsRecord("http://127.0.0.1:9090", Window(load.window_start, load.window_end),
                            measurements=server_measurements(total, 0.021, rng))
    baseline = Baseline(
        Path("baselines/demo/synthetic.json"), "demo", "synthetic", server_measurements(total, 0.020, rng), {}
    )
    judgement = judge_run(spec, metrics, baseline)
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) if keep is None else keep / f"{seconds}s"
        target.mkdir(parents=True, exist_ok=True)
        started, cpu = time.perf_counter(), time.process_time()
        charts = write_charts(target, judgement.results, metrics.measurements, baseline.measurements, [load])
        elapsed, cpu = (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000
    return elapsed, cpu, len(charts)


def startup() -> float:
    """matplotlib's one-time cost in a fresh process (font cache, first Agg draw): every `slagate run` pays it."""
    from matplotlib.figure import Figure

    started = time.perf_counter()
    figure = Figure(figsize=(2, 2))
    figure.subplots().plot([0, 1], [0, 1])
    with tempfile.TemporaryDirectory() as folder:
        figure.savefig(Path(folder) / "first.png")
    return (time.perf_counter() - started) * 1000


def main() -> None:
    keep = Path(sys.argv[1]) if len(sys.argv) > 1 else None  # keep the charts there, to look at them
    first = startup()
    rows = [
        ("5-s run, 200 req/s", *render(5, 200, 1, keep)),
        ("10-min run, 10,000 req/s (6 M requests)", *render(600, 10_000, 30, keep)),
    ]
    width = max(len(row[0]) for row in rows)
    print(f"{'run'.ljust(width)} | charts | wall (ms) | CPU (ms)")
    print(f"{'matplotlib start-up, once per process'.ljust(width)} | {1:6d} | {first:9.0f} |")
    for name, ms, cpu, count in rows:
        print(f"{name.ljust(width)} | {count:6d} | {ms:9.0f} | {cpu:8.0f}")
    print(f"load average over the last minute: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall time grows)")
    print(f"render_charts: {rows[-1][1]:.0f} ms")


if __name__ == "__main__":
    main()
