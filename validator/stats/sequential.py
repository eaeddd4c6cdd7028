"""Group-sequential looks: the one-sided level each look is judged at, from an error-spending function.

A candidate run is added at each look (`min_repeat` … `max_repeat` runs); every bound is judged at the look's
level on both sides (PASS and FAIL are each a one-sided claim). The level comes from Lan–DeMets error spending:
the probability `alpha = 1 − level` of ever making a claim at a build exactly at the bound is spread over the
looks by `spent(t)`, t the look's information fraction, and the look's critical value is the one at which a
statistic not yet past any earlier critical value crosses it with exactly the newly spent probability
(Brownian-motion joint law of the looks, integrated on a grid). The looks' statistics are normal with known
variance in this derivation; with few runs the variance is learnt, and each look's nominal level is applied to
a t quantile at that look's degrees of freedom (the significance-level approach).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from validator.stats.intervals import t_quantile

SPENDING_FUNCTIONS = ("pocock", "obrien_fleming")
SPENDING_CHOICES = ("auto", *SPENDING_FUNCTIONS)  # "auto": the function that suits the baseline (`spending_for`)
DEFAULT_SPENDING = "auto"
# From this many baseline runs on, the early looks' run spread has enough degrees of freedom for Pocock-type
# spending to decide sooner (stat_quality, 3 % noise: 1.82 runs a same-build candidate against 2.69 at 10 runs);
# below it they rarely decide, and O'Brien–Fleming-type saves α for the later looks (28 % false CAUTION against
# 41 %, power 93 % against 87 % at 3 runs)
POCOCK_FROM_BASELINE_RUNS = 10
_GRID = 4001  # points of the recursive integration over ±_SPAN standard deviations
_SPAN = 10.0


def spending_for(requested: str, baseline_runs: int | None) -> str:
    """The spending function a plan uses: `requested`, or for "auto" Pocock-type against a baseline of at least
    POCOCK_FROM_BASELINE_RUNS runs and O'Brien–Fleming-type otherwise (absolute bounds included)."""
    if requested != "auto":
        return requested
    return "pocock" if baseline_runs is not None and baseline_runs >= POCOCK_FROM_BASELINE_RUNS else "obrien_fleming"


def spent(t: float, alpha: float, kind: str) -> float:
    """Error spent by information fraction t ∈ [0, 1]: Lan–DeMets Pocock-type α·ln(1 + (e − 1)·t), or
    O'Brien–Fleming-type 2·(1 − Φ(z_{1−α/2} / √t))."""
    if t <= 0.0:
        return 0.0
    t = min(t, 1.0)
    if kind == "pocock":
        return alpha * math.log(1.0 + (math.e - 1.0) * t)
    if kind == "obrien_fleming":
        return float(2.0 * (1.0 - ndtr(ndtri(1.0 - alpha / 2.0) / math.sqrt(t))))
    raise ValueError(f"spending must be one of {', '.join(SPENDING_FUNCTIONS)}, got {kind!r}")


def information(candidate_runs: int, baseline_runs: int | None) -> float:
    """Information (1 / variance, in units of one run's variance) of a candidate's mean over its runs, against a
    fixed baseline of `baseline_runs` runs (None: an absolute bound, no baseline)."""
    if baseline_runs is None:
        return float(candidate_runs)
    return 1.0 / (1.0 / candidate_runs + 1.0 / baseline_runs)


def critical_values(informations: Sequence[float], alpha: float, kind: str) -> tuple[float, ...]:
    """One-sided critical z at each look such that P(cross at look i, not before) = spent(t_i) − spent(t_{i−1})
    for a statistic at the bound; the looks' z-statistics are correlated as √(I_i / I_j)."""
    info = np.asarray(informations, dtype=float)
    if info.size == 0 or np.any(np.diff(info) <= 0) or info[0] <= 0:
        raise ValueError(f"informations must be positive and increasing, got {list(informations)!r}")
    fractions = info / info[-1]
    scale = math.sqrt(info[-1])
    x = np.linspace(-_SPAN * scale, _SPAN * scale, _GRID)  # the score S_i = Z_i·√I_i on a grid
    step = x[1] - x[0]
    density = _normal(x, info[0])
    values, before = [], 0.0
    for i, fraction in enumerate(fractions):
        if i > 0:
            density = _convolve(density, x, step, info[i] - info[i - 1])
        target = spent(float(fraction), alpha, kind) - before
        before += target
        cell = density * step
        above = np.cumsum(cell[::-1])[::-1] - 0.5 * cell  # mass above each grid point (trapezoid)
        score = float(np.interp(-target, -above, x))  # `above` falls with x
        values.append(score / math.sqrt(info[i]))
        density = np.where(x < score, density, 0.0)
    return tuple(values)


def _normal(x: np.ndarray, variance: float) -> np.ndarray:
    return np.exp(-0.5 * x * x / variance) / math.sqrt(2.0 * math.pi * variance)


def _convolve(density: np.ndarray, x: np.ndarray, step: float, variance: float) -> np.ndarray:
    """The density after adding an independent N(0, variance) increment."""
    half = int(math.ceil(8.0 * math.sqrt(variance) / step))
    kernel = _normal(np.arange(-half, half + 1) * step, variance) * step
    return np.convolve(density, kernel, mode="same") if kernel.size < density.size else density


@dataclass(frozen=True)
class Plan:
    """The looks of `repeat = "auto"`: candidate runs at each look and the one-sided level its bounds are judged
    at (both PASS and FAIL), from `spending` of 1 − `level` over the looks."""

    runs: tuple[int, ...]
    levels: tuple[float, ...]
    level: float
    spending: str
    baseline_runs: int | None

    def level_at(self, runs: int) -> float:
        """The level of the look at `runs` candidate runs (the last look's beyond it)."""
        index = min(self.runs.index(runs) if runs in self.runs else len(self.runs) - 1, len(self.runs) - 1)
        return self.levels[index]

    @property
    def last(self) -> int:
        return self.runs[-1]


def plan(
    min_repeat: int, max_repeat: int, level: float, baseline_runs: int | None, spending: str = DEFAULT_SPENDING
) -> Plan:
    """The looks at min_repeat … max_repeat candidate runs; a single look is judged at `level` itself."""
    spending = spending_for(spending, baseline_runs)
    if not 1 <= min_repeat <= max_repeat:
        raise ValueError(f"need 1 ≤ min_repeat ≤ max_repeat, got {min_repeat}, {max_repeat}")
    runs = tuple(range(min_repeat, max_repeat + 1))
    if len(runs) == 1:
        return Plan(runs, (level,), level, spending, baseline_runs)
    infos = [information(k, baseline_runs) for k in runs]
    levels = tuple(float(ndtr(c)) for c in critical_values(infos, 1.0 - level, spending))
    return Plan(runs, levels, level, spending, baseline_runs)


def runs_to_decide(run_sd: float, distance: float, level: float, most: int = 1000) -> int | None:
    """The fewest runs a side k (fresh candidate and baseline runs alike, variance run_sd²·2/k) at which an
    estimate `distance` away from the limit is decided at the one-sided `level` with the runs' own spread
    (Student t, 2k − 2 df); None when the estimate sits on the limit or more than `most` runs would be needed."""
    if not distance > 0:
        return None
    if not (run_sd > 0 and math.isfinite(run_sd)):
        return 2
    for runs in range(2, most + 1):
        if t_quantile(level, 2 * runs - 2) * run_sd * math.sqrt(2.0 / runs) <= distance:
            return runs
    return None


def conditional_power(
    distance: float, run_sd: float, runs: int, last: int, baseline_runs: int, last_level: float
) -> float:
    """The chance that the last look (`last` candidate runs against `baseline_runs`, one-sided `last_level`) decides
    a bound whose estimate is now `distance` from its limit after `runs` runs, either way, if the runs to come
    follow the current estimate with one run's SD `run_sd` (the estimate at the last look then varies by
    run_sd·√(last − runs)/last around today's; its half-width is t·run_sd·√(1/last + 1/baseline_runs))."""
    if runs >= last or not (run_sd > 0 and math.isfinite(run_sd) and math.isfinite(distance)):
        return 1.0
    half = t_quantile(last_level, last + baseline_runs - 2) * run_sd * math.sqrt(1.0 / last + 1.0 / baseline_runs)
    spread = run_sd * math.sqrt(last - runs) / last
    return float(ndtr((abs(distance) - half) / spread) + ndtr((-abs(distance) - half) / spread))
