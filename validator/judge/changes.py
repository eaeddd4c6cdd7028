"""Change points across releases: where a gate's figure moved to a new level in the history of judged runs.

Each run is judged against one baseline with a per-release tolerance, so a service can drift a few per cent a
release, or step once and stay there, with every run a GO. Here the whole history of one figure is segmented
(ruptures' PELT on the figure, the log scale for ratios) and each boundary is kept only when slagate's own
between-run test says the two levels differ: runs are the units, their variance is the spread around both levels
pooled (one service's run-to-run noise), never below their own sampling variance (read from each run's interval),
Student's t with n₁ + n₂ − 2 degrees of freedom at `alpha`.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.special import ndtri, stdtr, stdtrit

from validator.stats.intervals import interval_level

ALPHA = 0.01  # the two-sided significance a boundary must reach to be a change point
HISTORY_LEVEL = 0.95  # the spec level the history's intervals were judged at (two-sided coverage 2·level - 1)
FEWEST_RUNS = 3  # a history with fewer runs holding a figure is not segmented


@dataclass(frozen=True)
class RunFigure:
    """One judged run's figure for one gate, as the history holds it."""

    run_id: str
    version: str
    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class Level:
    """A stretch of runs at one level: its mean and the interval of that mean (on the figure's own scale)."""

    estimate: float
    low: float
    high: float
    runs: int


@dataclass(frozen=True)
class ChangePoint:
    """The first run of a new level: the levels before and after, the change (a ratio, or a difference for a
    share such as the success rate) with its interval, and the test's p-value."""

    index: int
    at: RunFigure
    before: Level
    after: Level
    ratio: bool
    change: float
    change_low: float
    change_high: float
    p_value: float


def change_points(figures: Sequence[RunFigure], ratio: bool, alpha: float = ALPHA) -> list[ChangePoint]:
    """The change points of a figure's history, oldest first (`ratio`: compare on the log scale); a point's `index`
    is its run's place in `figures` (runs without a usable figure are left out of the test)."""
    positions = [i for i, f in enumerate(figures) if _finite(f) and (not ratio or min(f.estimate, f.low, f.high) > 0)]
    usable = [figures[i] for i in positions]
    if len(usable) < FEWEST_RUNS:
        return []
    scale = np.log if ratio else np.asarray
    values = np.asarray(scale(np.array([f.estimate for f in usable], dtype=float)), dtype=float)
    spreads = _sampling_sd(usable, ratio)
    steps = np.diff(values)  # a robust spread of run-to-run steps (a level shift is one outlier among them)
    noise = float(np.median(spreads) ** 2 + (1.4826 * np.median(np.abs(steps - np.median(steps)))) ** 2 / 2)
    penalty = 2.0 * math.log(len(values)) * max(noise, 1e-12)
    import ruptures  # with scipy.stats (~0.3 s), imported only when a history is long enough to segment

    bounds = ruptures.Pelt(model="l2", min_size=1, jump=1).fit(values.reshape(-1, 1)).predict(pen=penalty)
    edges = [0, *bounds]
    found = []
    for start, cut, end in zip(edges, edges[1:], edges[2:], strict=False):
        point = _tested(usable, values, spreads, (start, cut, end), ratio)
        if point is not None and point.p_value < alpha:
            found.append(replace(point, index=positions[point.index]))
    return found


def _tested(figures: Sequence[RunFigure], values: np.ndarray, spreads: np.ndarray, cut: tuple[int, int, int],
            ratio: bool) -> ChangePoint | None:
    """The boundary at `cut[1]` between the segments [cut[0], cut[1]) and [cut[1], cut[2]) with Welch's test."""
    start, middle, end = cut
    before, after = values[start:middle], values[middle:end]
    variance = _pooled_variance(before, after, spreads[start:end])
    standard_error = math.sqrt(variance * (1 / len(before) + 1 / len(after)))
    if standard_error <= 0:
        return None
    difference = float(after.mean() - before.mean())
    degrees = max(1, len(before) + len(after) - 2)
    t = difference / standard_error
    p_value = float(2 * stdtr(degrees, -abs(t)))  # Student's t survival function, as scipy.stats.t.sf computes it
    margin = float(stdtrit(degrees, interval_level(HISTORY_LEVEL) / 2 + 0.5)) * standard_error
    shown = math.exp if ratio else float
    low, high = shown(difference - margin), shown(difference + margin)
    return ChangePoint(middle, figures[middle], _level(before, variance, ratio), _level(after, variance, ratio),
                       ratio, shown(difference), low, high, p_value)


def _level(part: np.ndarray, variance: float, ratio: bool) -> Level:
    """A segment's mean with its interval at the history's coverage, on the figure's own scale (a ratio's mean is
    the geometric one)."""
    mean, error = float(part.mean()), math.sqrt(variance / len(part))
    z = float(ndtri(interval_level(HISTORY_LEVEL) / 2 + 0.5))
    shown = math.exp if ratio else float
    return Level(shown(mean), shown(mean - z * error), shown(mean + z * error), len(part))


def _pooled_variance(before: np.ndarray, after: np.ndarray, spreads: np.ndarray) -> float:
    """One run's variance around its level, pooled over both levels (the same service's run-to-run noise), never
    below the runs' own sampling variance."""
    squares = float(np.sum((before - before.mean()) ** 2) + np.sum((after - after.mean()) ** 2))
    degrees = len(before) + len(after) - 2
    return max(squares / degrees if degrees > 0 else 0.0, float(np.mean(spreads**2)))


def _sampling_sd(figures: Sequence[RunFigure], ratio: bool) -> np.ndarray:
    """Each run's sampling SD on the comparison scale, from its interval at the history's coverage."""
    z = float(ndtri(interval_level(HISTORY_LEVEL) / 2 + 0.5))
    if ratio:
        widths = np.array([math.log(f.high) - math.log(f.low) for f in figures])
    else:
        widths = np.array([f.high - f.low for f in figures])
    return np.maximum(widths, 0.0) / (2 * z)


def _finite(figure: RunFigure) -> bool:
    return all(math.isfinite(x) for x in (figure.estimate, figure.low, figure.high))


@dataclass(frozen=True)
class GateChange:
    """A change point of one gate's figure in one service's history."""

    service: str
    gate: str
    unit: str
    point: ChangePoint


def history_changes(entries: Sequence[Mapping[str, Any]], alpha: float = ALPHA) -> list[GateChange]:
    """The change points of every gate of every service in history entries (reports/history.jsonl, oldest first);
    a point's `index` counts that service's runs."""
    found = []
    for service in dict.fromkeys(entry["service"] for entry in entries):
        runs = [entry for entry in entries if entry["service"] == service]
        gates = dict.fromkeys((g["name"], g.get("unit", "")) for entry in runs for g in entry["gates"])
        for name, unit in gates:
            figures = [_figure_of(entry, name) for entry in runs]
            known = [(index, figure) for index, figure in enumerate(figures) if figure is not None]
            for point in change_points([figure for _, figure in known], ratio=unit != "ratio", alpha=alpha):
                found.append(GateChange(service, name, unit, replace(point, index=known[point.index][0])))
    return found


def _figure_of(entry: Mapping[str, Any], gate: str) -> RunFigure | None:
    """The entry's figure for `gate`, or None when it had none."""
    figure = next((g for g in entry["gates"] if g["name"] == gate and g.get("estimate") is not None), None)
    if figure is None:
        return None
    estimate = float(figure["estimate"])
    low, high = (estimate if figure.get(key) is None else float(figure[key]) for key in ("low", "high"))
    return RunFigure(str(entry["run_id"]), str(entry["version"]), estimate, low, high)
