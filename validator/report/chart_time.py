"""Charts over time: every run's timeline (req/s, p50/p99, errors per 1-s window; warm-up shaded, steady window
marked) and success rate with errors stacked by category."""

from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MultipleLocator, NullLocator

from validator.load.capture import ErrorGroup
from validator.load.histogram import LatencyHistogram
from validator.load.result import LoadResult
from validator.report.chart_style import CANDIDATE, ERRORS, LIMIT, WARMUP, label_text, note

MAX_CATEGORIES = 6
MIXED = "several categories at once (split per second not recorded)"


def _clock(seconds: float, _: object = None) -> str:
    """Seconds since the load started as m:ss."""
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}:{rest:02d}"


def window_quantiles(histogram: LatencyHistogram, probabilities: Sequence[float]) -> list[float]:
    """Quantiles (ms) of one window's histogram; NaN for an empty window."""
    return list(histogram.quantiles(probabilities) / 1e3)


def _series(load: LoadResult, quantiles: bool = True) -> dict[str, np.ndarray]:
    """Per recorded window up to the steady window's end: start (s since the load began), requests/s, errors, and
    (with `quantiles`) p50 and p99 in ms. The trailing window the load stopped in is partial, so it is left out as
    the gates leave it."""
    width = load.timeline.window_seconds
    last = (load.window_end - load.timeline.origin) / width  # windows from here on are cut short by the load's end
    windows = [w for w in load.timeline.windows() if w.index < last]
    start = np.array([load.timeline.origin + w.index * width - load.origin for w in windows], dtype=float)
    requests = np.array([w.successes + w.failures for w in windows], dtype=float)
    failures = np.array([w.failures for w in windows], dtype=float)
    series = {"start": start, "rate": requests / width, "errors": failures, "n": requests}
    if quantiles:
        pairs = np.array([window_quantiles(w.histogram, (0.5, 0.99)) for w in windows]).reshape(-1, 2)
        series["p50"], series["p99"] = pairs[:, 0], pairs[:, 1]
    return series


def _edges(starts: np.ndarray) -> np.ndarray:
    """Window edges for a step drawing (one polygon, not a bar per window)."""
    return np.append(starts, starts[-1] + 1.0) if len(starts) else np.array([0.0])


def time_locator(span_s: float) -> MultipleLocator:
    """Ticks on round clock steps (1 s … 10 min) with at most a dozen over the span."""
    step = next((s for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600) if span_s / s <= 12), 1200)
    return MultipleLocator(step)


def _mark_phases(ax: Axes, load: LoadResult, label: bool) -> None:
    """Warm-up shaded from the load's start to the steady window; the steady window's ends as vertical lines."""
    start, end = load.window_start - load.origin, load.window_end - load.origin
    if start > 0:
        ax.axvspan(0, start, color=WARMUP, alpha=0.6, lw=0, label="warm-up (excluded)" if label else None)
    for edge in (start, end):
        ax.axvline(edge, color="0.3", lw=1, ls="--", label="steady window" if label and edge == start else None)
    ax.xaxis.set_major_formatter(FuncFormatter(_clock))
    ax.xaxis.set_major_locator(time_locator(end))


def _style(count: int) -> dict[str, object]:
    """Markers for short runs (a 5-s run is a handful of points); plain lines for long ones."""
    return {"marker": "o", "ms": 3} if count <= 60 else {}


def timeline_figure(loads: Sequence[LoadResult]) -> Figure:
    """Per run two panels sharing time: requests/s with errors per second; p50 and p99 per second."""
    runs = len(loads)
    height = 2.4 * 2 * runs + 0.6
    figure = Figure(figsize=(11, height))
    figure.subplots_adjust(left=0.08, right=0.92, top=1 - 0.35 / height, bottom=0.55 / height, hspace=0.45)
    axes = figure.subplots(2 * runs, 1, squeeze=False)
    for index, load in enumerate(loads):
        rate_ax, latency_ax = axes[2 * index, 0], axes[2 * index + 1, 0]
        data = _series(load)
        title = f"run {index + 1} of {runs}: " if runs > 1 else ""
        if not len(data["start"]):
            note(rate_ax, "no request completed")
            note(latency_ax, "no request completed")
            continue
        style = _style(len(data["start"]))
        rate_ax.plot(data["start"], data["rate"], color=CANDIDATE, lw=1.2, label="requests/s", **style)
        rate_ax.set_ylabel("requests/s")
        rate_ax.set_ylim(bottom=0)
        errors_ax = rate_ax.twinx()
        errors_ax.stairs(data["errors"], _edges(data["start"]), fill=True, color=ERRORS, alpha=0.35, label="errors")
        errors_ax.set_ylabel("errors per second", color=ERRORS)
        errors_ax.set_ylim(bottom=0, top=max(1.0, float(np.nanmax(data["errors"])) * 1.15))
        _mark_phases(rate_ax, load, label=index == 0)
        rate_ax.set_title(f"{title}throughput and errors per 1-s window (client, load.json)", fontsize=10)
        handles = rate_ax.get_legend_handles_labels()
        extra = errors_ax.get_legend_handles_labels()
        rate_ax.legend(handles[0] + extra[0], handles[1] + extra[1], loc="lower center", fontsize=8, ncol=4)
        latency_ax.plot(data["start"], data["p50"], color=CANDIDATE, lw=1.2, label="p50", **style)
        latency_ax.plot(data["start"], data["p99"], color=LIMIT, lw=1.2, label="p99", **style)
        latency_ax.set_yscale("log")
        latency_ax.yaxis.set_minor_locator(NullLocator())
        latency_ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        latency_ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g} ms"))
        latency_ax.set_ylabel("latency (ms, log)")
        _mark_phases(latency_ax, load, label=False)
        latency_ax.set_title(f"{title}p50 and p99 per 1-s window (client, load.json)", fontsize=10)
        latency_ax.legend(loc="upper right", fontsize=8, ncol=2)
    axes[-1, 0].set_xlabel("time since the load started (m:ss)")
    return figure


def _category(group: ErrorGroup) -> str:
    return f"{group.status} {group.exception} on {group.endpoint}"


def _attributed(load: LoadResult, starts: np.ndarray, errors: np.ndarray) -> dict[str, np.ndarray]:
    """Errors per window split by category where the split is certain: a window inside the seen-span of exactly
    one category gets all its errors; a window where several categories were active is shown as mixed."""
    groups = sorted(load.errors, key=lambda g: -g.count)
    names = [_category(g) for g in groups[:MAX_CATEGORIES]]
    names += ["other categories"] if len(groups) > MAX_CATEGORIES else []
    stacks = {name: np.zeros_like(errors) for name in [*names, MIXED]}
    width = load.timeline.window_seconds
    for i, (start, count) in enumerate(zip(starts, errors, strict=True)):
        if not count:
            continue
        t0, t1 = load.origin + start, load.origin + start + width
        active = {
            names[min(rank, len(names) - 1)] for rank, g in enumerate(groups) if g.first_seen < t1 and g.last_seen >= t0
        }
        stacks[active.pop() if len(active) == 1 else MIXED][i] = count
    return {name: values for name, values in stacks.items() if values.any()}


def errors_figure(loads: Sequence[LoadResult], success_min: float | None) -> Figure:
    """Success rate per 1-s window (with the success gate's bound) above errors per window stacked by category."""
    figure = Figure(figsize=(11, 6))
    figure.subplots_adjust(left=0.08, right=0.98, top=0.95, bottom=0.09, hspace=0.2)
    rate_ax, stack_ax = figure.subplots(2, 1, sharex=True)
    offset, lowest = 0.0, 100.0
    stacks_seen: dict[str, str | tuple[float, float, float, float]] = {}
    palette = matplotlib.colormaps["tab10"]
    for index, load in enumerate(loads):
        data = _series(load, quantiles=False)
        starts = data["start"] + offset
        with np.errstate(invalid="ignore", divide="ignore"):
            success = np.where(data["n"] > 0, 100 * (1 - data["errors"] / data["n"]), np.nan)
        rate_ax.plot(starts, success, color=CANDIDATE, lw=1.2, **_style(len(starts)))
        lowest = min(lowest, float(np.nanmin(success))) if np.isfinite(success).any() else lowest
        bottom = np.zeros_like(data["errors"])
        for name, values in _attributed(load, data["start"], data["errors"]).items():
            colour = stacks_seen.setdefault(name, "0.55" if name == MIXED else palette(len(stacks_seen) % 10))
            label = label_text(name, 70) if index == 0 or name not in stacks_seen else None
            stack_ax.stairs(bottom + values, _edges(starts), baseline=bottom, fill=True, color=colour, label=label)
            bottom = bottom + values
        for ax in (rate_ax, stack_ax):
            shifted = load.window_start - load.origin + offset
            if shifted > offset:  # each run's warm-up
                ax.axvspan(offset, shifted, color=WARMUP, alpha=0.6, lw=0)
            ax.axvline(shifted, color="0.3", lw=1, ls="--")
            ax.axvline(load.window_end - load.origin + offset, color="0.3", lw=1, ls="--")
        offset = starts[-1] + 2 if len(starts) else offset
    lowest = min(lowest, 100.0 if success_min is None else success_min * 100)
    rate_ax.set_ylim(max(0.0, lowest - 0.5), 100.2)
    if success_min is not None:
        rate_ax.axhline(success_min * 100, color=LIMIT, ls="--", lw=1, label=f"success gate ≥ {success_min * 100:g} %")
        rate_ax.legend(loc="lower left", fontsize=8)
    rate_ax.set_ylabel("success rate per second (%)")
    rate_ax.set_title(
        "Success rate per 1-s window (client, load.json; warm-up shaded, steady window dashed)", fontsize=10
    )
    stack_ax.set_ylabel("errors per second")
    stack_ax.set_title("Errors per 1-s window by category (status, exception, route; load.json)", fontsize=10)
    if stacks_seen:
        stack_ax.legend(loc="upper left", fontsize=7)
    else:
        note(stack_ax, "no request failed")
    stack_ax.xaxis.set_major_formatter(FuncFormatter(_clock))
    stack_ax.xaxis.set_major_locator(time_locator(offset))
    stack_ax.set_xlabel("time since the load started (m:ss" + (", runs back to back)" if len(loads) > 1 else ")"))
    return figure
