"""The report's pictures (matplotlib Figures rendered by Agg, no pyplot state): latency CDFs candidate vs
baseline, the timeline of every run, success rate and errors by category over time, and one small multiple per
route. PNG files beside report.md.

Every line is drawn from recorded data (Prometheus bucket counts, load.json histograms, the baseline file, the
gates' intervals); where a figure is missing the chart says so instead of drawing it.
"""

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullLocator

from validator.evidence import Measurement, QuantileEvidence
from validator.judge.gates import GateResult
from validator.load.histogram import LatencyHistogram, upper_edges_us
from validator.load.result import LoadResult
from validator.report.chart_style import BASELINE, CANDIDATE, CLIENT, DPI, LIMIT, QUANTILES, label_text, note
from validator.report.chart_time import errors_figure, timeline_figure

LATENCY_METRICS = {"latency_p50": 0.5, "latency_p95": 0.95, "latency_p99": 0.99}
MAX_ROUTES = 12
TAIL_FLOOR = 1e-4  # the logit axis shows shares from 0.01 % to 99.99 %


@dataclass(frozen=True)
class Chart:
    """A chart beside the report: its file name (a relative link), or why it could not be drawn."""

    key: str
    file: str | None
    error: str | None = None


def write_charts(
    run_dir: Path,
    results: Sequence[GateResult],
    measurements: dict[str, Measurement],
    baseline: dict[str, Measurement] | None,
    loads: Sequence[LoadResult],
) -> list[Chart]:
    """Draw every chart that has data into run_dir, in report order. A chart that fails to draw is reported as
    such and never costs the report or the verdict."""
    drawings: list[tuple[str, Callable[[], Figure]]] = []
    if _server_evidence(measurements) is not None or _server_evidence(baseline) is not None or loads:
        drawings.append(("latency", lambda: latency_figure(results, measurements, baseline, loads)))
    if loads:
        drawings += [
            ("timeline", lambda: timeline_figure(loads)),
            ("errors", lambda: errors_figure(loads, _success_min(results))),
            ("routes", lambda: routes_figure(loads[-1])),
        ]
    charts = []
    for key, draw in drawings:
        name = f"chart-{key}.png"
        partial = run_dir / f".{name}.tmp"
        try:
            draw().savefig(partial, dpi=DPI, format="png")
            os.replace(partial, run_dir / name)  # atomic: a chart is whole or absent
        except (ValueError, TypeError, OverflowError, RuntimeError, OSError) as error:
            partial.unlink(missing_ok=True)
            charts.append(Chart(key, None, f"{type(error).__name__}: {error}"))
            continue
        charts.append(Chart(key, name))
    return charts


def _success_min(results: Sequence[GateResult]) -> float | None:
    bounds = [r.gate.min for r in results if r.gate.metric.name == "success_rate" and r.gate.min is not None]
    return max(bounds) if bounds else None


def _server_evidence(measurements: dict[str, Measurement] | None) -> QuantileEvidence | None:
    for name in LATENCY_METRICS:
        measurement = measurements.get(name) if measurements else None
        evidence = measurement.evidence if measurement else None
        if isinstance(evidence, QuantileEvidence) and evidence.total > 0:
            return evidence
    return None


def _bucket_cdf(evidence: QuantileEvidence) -> tuple[np.ndarray, np.ndarray]:
    """(latency ms, share at or below) at each finite bucket bound of a Prometheus histogram."""
    bounds = np.asarray(evidence.upper_bounds, dtype=float)
    shares = np.asarray(evidence.cumulative_counts, dtype=float) / evidence.total
    finite = np.isfinite(bounds)
    return bounds[finite] * 1e3, shares[finite]


def histogram_cdf(histogram: LatencyHistogram) -> tuple[np.ndarray, np.ndarray]:
    """(latency ms, share at or below) at each non-empty bucket's upper edge of a client histogram."""
    keys, counts = histogram.buckets()
    if not histogram.total:
        return np.array([]), np.array([])
    return upper_edges_us(keys) / 1e3, np.cumsum(counts) / histogram.total


def steady_client_cdf(loads: Sequence[LoadResult]) -> tuple[np.ndarray, np.ndarray]:
    """(latency ms, share at or below) of every client request in the runs' steady windows, the windows' buckets
    added up in one pass."""
    steady = []
    for load in loads:
        width, origin = load.timeline.window_seconds, load.timeline.origin
        first, last = ((edge - origin) / width for edge in (load.window_start, load.window_end))
        steady += [w.histogram for w in load.timeline.windows() if first - 1e-6 <= w.index < last - 1e-6]
    keys, totals = LatencyHistogram.added(steady).buckets()
    if not keys.size:
        return np.array([]), np.array([])
    return upper_edges_us(keys) / 1e3, np.cumsum(totals) / totals.sum()


def _logit_axis(ax: Axes) -> None:
    ax.set_xscale("log")
    ax.set_yscale("logit")
    ax.set_ylim(TAIL_FLOOR, 1 - TAIL_FLOOR)
    ticks = [0.01, 0.1, 0.5, 0.95, 0.99, 0.999]
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"p{value * 100:g}"))
    ax.yaxis.set_minor_locator(NullLocator())  # a logit axis's default minor ticks cost seconds to lay out
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0), numticks=8))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(_ms_label))
    ax.grid(True, which="major", alpha=0.3)


def _ms_label(value: float, _: object = None) -> str:
    """Milliseconds as a tick label: 500 µs, 20 ms, 2 s."""
    if value >= 1000:
        return f"{value / 1000:g} s"
    return f"{value:g} ms" if value >= 1 else f"{value * 1000:g} µs"


def _span(xs: list[np.ndarray], ys: list[np.ndarray]) -> tuple[float, float] | None:
    """The latency range where any curve is between the axis's floor and ceiling, padded a little."""
    lows, highs = [], []
    for x, y in zip(xs, ys, strict=True):
        inside = x[(y > TAIL_FLOOR / 2) & (x > 0)]
        if len(inside):
            lows.append(inside[0])
            top = x[y >= 1 - TAIL_FLOOR]
            highs.append(top[0] if len(top) else inside[-1])
    return (min(lows) / 1.5, max(highs) * 1.5) if lows else None


def _clip(shares: np.ndarray) -> np.ndarray:
    return np.clip(shares, TAIL_FLOOR, 1 - TAIL_FLOOR)


def latency_figure(
    results: Sequence[GateResult],
    measurements: dict[str, Measurement],
    baseline: dict[str, Measurement] | None,
    loads: Sequence[LoadResult],
) -> Figure:
    """Candidate vs baseline CDFs on a log latency axis and a logit share axis (p50 … p99.9 spread apart), the
    gates' quantile intervals as the candidate's band, every latency bound as a vertical line."""
    figure = Figure(figsize=(9, 5.5))
    figure.subplots_adjust(left=0.1, right=0.97, top=0.93, bottom=0.1)
    ax = figure.subplots()
    _logit_axis(ax)
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    server, reference = _server_evidence(measurements), _server_evidence(baseline)
    for evidence, colour, width, label in (
        (server, CANDIDATE, 2.0, "candidate, server (Prometheus buckets)"),
        (reference, BASELINE, 1.6, "baseline, server (baseline file)"),
    ):
        if evidence is not None:
            x, y = _bucket_cdf(evidence)
            ax.step(x, _clip(y), where="post", color=colour, lw=width, label=label)
            xs.append(x)
            ys.append(y)
    x, y = steady_client_cdf(loads)
    if len(x):
        ax.plot(x, _clip(y), color=CLIENT, lw=1, ls="--", label="candidate, client (load.json)")
        xs.append(x)
        ys.append(y)
    drawn = bool(xs)
    _quantile_marks(ax, results)
    span = _span(xs, ys)
    limits = [r.gate.max * 1e3 for r in results if r.gate.metric.name in LATENCY_METRICS and r.gate.max is not None]
    if span is not None:
        ax.set_xlim(min([span[0], *limits]) / 1.2, max([span[1], *limits]) * 1.2)
    _latency_bounds(ax, results)
    if not drawn:
        note(ax, "no latency data: neither Prometheus buckets nor client histograms were recorded")
    ax.set_xlabel("latency (log scale)")
    ax.set_ylabel("share of requests at or below (logit scale)")
    ax.set_title("Latency distribution over the steady window: candidate vs baseline")
    if drawn:
        ax.legend(loc="lower right", fontsize=8)
    return figure


def _quantile_marks(ax: Axes, results: Sequence[GateResult]) -> None:
    """p50/p95/p99 as dotted levels; each latency gate's interval (candidate, baseline) as a bar at its level."""
    for q in QUANTILES:
        ax.axhline(q, color="0.6", lw=0.6, ls=":")
    for result in results:
        level = LATENCY_METRICS.get(result.gate.metric.name)
        if level is None:
            continue
        for interval, color, offset in ((result.value, CANDIDATE, 1.0), (result.baseline, BASELINE, 0.85)):
            if interval is None or not all(map(math.isfinite, (interval.low, interval.high, interval.estimate))):
                continue
            y = 1 - (1 - level) * offset
            low, high, mid = interval.low * 1e3, interval.high * 1e3, interval.estimate * 1e3
            ax.errorbar(mid, y, xerr=[[mid - low], [high - mid]], fmt="o", color=color, ms=4, capsize=4, lw=2)


def _latency_bounds(ax: Axes, results: Sequence[GateResult]) -> None:
    for result in results:
        gate = result.gate
        if gate.metric.name in LATENCY_METRICS and gate.max is not None:
            ax.axvline(gate.max * 1e3, color=LIMIT, lw=1.2, ls="--")
            ax.annotate(
                label_text(f"{gate.name} ≤ {_ms_label(gate.max * 1e3)}", 30),
                (gate.max * 1e3, 0.02),
                rotation=90,
                color=LIMIT,
                fontsize=8,
                ha="right",
                va="bottom",
            )


def routes_figure(load: LoadResult) -> Figure:
    """One small CDF per route (client histograms of the whole load, warm-up included), the busiest first, each
    over the all-routes CDF in grey; titles give requests, failures and p50 / p99."""
    routes = sorted(load.endpoints.items(), key=lambda item: -item[1].requests)
    shown = routes[:MAX_ROUTES]
    columns = min(3, max(1, math.ceil(math.sqrt(len(shown)))))
    rows = max(1, math.ceil(len(shown) / columns))
    height = 3.2 * rows + 0.5
    figure = Figure(figsize=(4.2 * columns, height))
    figure.subplots_adjust(left=0.08, right=0.98, top=1 - 1.0 / height, bottom=0.4 / height, wspace=0.3, hspace=0.6)
    axes = figure.subplots(rows, columns, squeeze=False)
    everything = LatencyHistogram()
    for _, stats in routes:
        everything.merge(stats.histogram)
    all_x, all_y = histogram_cdf(everything)
    curves = [histogram_cdf(stats.histogram) for _, stats in shown]
    span = _span([all_x, *(x for x, _ in curves)], [all_y, *(y for _, y in curves)])
    for ax, (name, stats) in zip(axes.flat, shown, strict=False):
        _logit_axis(ax)
        if len(all_x):
            ax.plot(all_x, _clip(all_y), color="0.75", lw=1.2, label="all routes")
        if span is not None:
            ax.set_xlim(*span)  # one scale for every route, so the panels compare at a glance
        x, y = histogram_cdf(stats.histogram)
        if len(x):
            ax.plot(x, _clip(y), color=CANDIDATE, lw=1.6, label="this route")
            p50, p99 = (stats.histogram.quantile(q) / 1e3 for q in (0.5, 0.99))
            figures = f"{stats.requests:,} req, {stats.failures:,} failed\np50 {p50:.3g} ms · p99 {p99:.3g} ms"
        else:
            figures = f"{stats.requests:,} req, {stats.failures:,} failed\nno latency recorded"
        ax.set_title(f"{label_text(name, 38)}\n{figures}", fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(shown) :]:
        ax.axis("off")
    if not shown:
        note(axes.flat[0], "no route recorded a request")
    rest = f" ({len(routes) - len(shown)} more routes not drawn)" if len(routes) > len(shown) else ""
    figure.suptitle(f"Latency per route, client side (load.json, warm-up included){rest}", fontsize=11)
    return figure
