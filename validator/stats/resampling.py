"""Bootstrap draws of a pooled quantile from per-window histograms: circular blocks within a run, or runs
resampled whole (hierarchical), with the block length and the spread correction learnt from the data."""

import functools
import math
from dataclasses import dataclass, replace

import numpy as np
from scipy.special import ndtri, stdtrit

from validator.stats.intervals import BlockSpread, Method, MethodKind, check_q, tail
from validator.stats.quantiles import histogram_quantile, interpolate, lower_edges

AUTO_MIN_WINDOWS = 20  # `auto` uses block when every run has at least this many windows
MAX_BLOCK_FRACTION = 0.25  # a block never spans more than a quarter of a run (at least 4 blocks)
BRACKET_PROBES = 8  # columns probed a level in each gap that still holds a resample's bucket
BLOCK_QUANTILES = (0.5, 0.95, 0.99)  # the block length serves every quantile of a run
CHUNK_RESAMPLES = 128  # resamples handled at once where a whole (resamples, windows) array would be needed
# resamples × windows × columns per product: OpenBLAS keeps products this small on one thread; its threads cost more
# than they save on products this thin (2,000 × 3,600 × 6 on 2 cores: 5 ms as products of 2^19, 6-330 ms of 2^20)
PRODUCT_CELLS = 1 << 19


def choose_method(requested: str, windows_per_run: list[int]) -> str:
    """`block` or `exact` for the data at hand: `auto` is `block` when every run has ≥ AUTO_MIN_WINDOWS windows."""
    if requested == "exact" or not windows_per_run or min(windows_per_run) < 2:
        return "exact"
    if requested == "block":
        return "block"
    return "block" if min(windows_per_run) >= AUTO_MIN_WINDOWS else "exact"


def _lag1_by_quantile(window_cumulative: np.ndarray, quantiles: tuple[float, ...]) -> list[float]:
    """Lag-1 autocorrelation of the per-window counts beyond each pooled quantile (what its variance rests on),
    with the usual small-sample bias (-(1 + 3ρ)/n) added back; 0 where the counts do not vary."""
    counts = np.asarray(window_cumulative)
    n = counts.shape[0]
    if n < 3:
        return [0.0 for _ in quantiles]
    pooled = counts.sum(axis=0, dtype=float)
    found = []
    for q in quantiles:
        column = min(int(np.searchsorted(pooled, q * pooled[-1], side="left")), counts.shape[1] - 1)
        beyond = counts[:, -1].astype(float) - counts[:, column]
        beyond -= beyond.mean()
        denominator = float(beyond @ beyond)
        lag1 = float(beyond[1:] @ beyond[:-1]) / denominator if denominator > 0 else 0.0
        found.append(lag1 + (1 + 3 * lag1) / n if denominator > 0 else 0.0)
    return found


def _clamped(rho: float) -> float:
    return min(max(rho, 0.0), 0.95)


def _carlstein_length(rho: float, n: int) -> int:
    """L = (2ρ/(1-ρ²))^(2/3) n^(1/3), at least 1 and at most a quarter of the run."""
    length = math.ceil((2 * rho / (1 - rho * rho)) ** (2 / 3) * n ** (1 / 3)) if rho > 0 else 1
    return max(1, min(length, int(n * MAX_BLOCK_FRACTION)))


@dataclass(frozen=True)
class BlockPlan:
    """How one run is resampled for the q-quantile: the block length from its most correlated quantile, the lag-1
    autocorrelation of the counts beyond q and that strongest one (both clamped to [0, 0.95])."""

    length: int
    own: float
    strongest: float


def block_plan(window_cumulative: np.ndarray, q: float) -> BlockPlan:
    """Carlstein's AR(1) block length for a run, ρ the largest lag-1 autocorrelation over BLOCK_QUANTILES."""
    rhos = _lag1_by_quantile(window_cumulative, (*BLOCK_QUANTILES, q))  # one pass per run
    strongest = _clamped(max(rhos[:-1]))
    return BlockPlan(
        _carlstein_length(strongest, np.asarray(window_cumulative).shape[0]), _clamped(rhos[-1]), strongest
    )


def block_spread_factor(rho1: float, phi: float, block: int) -> float:
    """How much wider a quantile's true spread is than a circular block bootstrap's.

    The counts beyond the quantile (lag-1 autocorrelation `rho1`) are modelled as a slowly varying AR(1) level
    plus sampling noise, so their autocorrelation is ρ_k = ρ₁·φ^(k-1), `phi` the decay of the run's most
    correlated counts. Blocks of L windows keep 1 + 2·Σ_{k<L} (1 - k/L)·ρ_k of the long-run variance
    1 + 2·Σ_k ρ_k; the factor is the square root of the ratio (1 without positive correlation)."""
    if rho1 <= 0:
        return 1.0
    phi = min(max(phi, rho1), 0.95)
    lags = np.arange(1, block)
    kept = 1.0 + 2.0 * rho1 * float(np.sum((1.0 - lags / block) * phi ** (lags - 1)))
    return math.sqrt((1.0 + 2.0 * rho1 / (1.0 - phi)) / kept)


def few_blocks_factor(blocks: int, coverage: float = 0.95) -> float:
    """Student-t calibration for a spread learnt from `blocks` independent blocks: t_{m-1} / z · sqrt(m / (m-1)),
    as for batch means (≈ 1.03 for 60 one-window blocks, 1.17 for 12 blocks of five)."""
    if blocks < 2:
        return 1.0
    upper = 1.0 - tail(coverage)
    return float(stdtrit(blocks - 1, upper) / ndtri(upper)) * math.sqrt(blocks / (blocks - 1))


def circular_block_weights(
    n_windows: int, block: int, n_resamples: int, rng: np.random.Generator, out: np.ndarray | None = None
) -> np.ndarray:
    """(n_resamples, n_windows) counts of how often each window is drawn by a circular block bootstrap, float32,
    or written into `out` when given (so the runs of a resampling fill one matrix, of any numeric type).

    ceil(n/block) blocks of consecutive windows (wrapping around), the last one cut so every resample has
    exactly n windows. Each block adds +1 where it starts and -1 where it ends (a wrapped block also +1 at
    window 0), counted CHUNK_RESAMPLES resamples at a time, and a running sum turns those steps into counts
    (in int64, several times faster than float32's running sum). A block as long as the run draws every window
    once, wherever it starts (its starts are drawn all the same, so the draws after them do not change).
    """
    if not 1 <= block <= n_windows:
        raise ValueError(f"block must be within [1, {n_windows}], got {block!r}")
    n_blocks = -(-n_windows // block)
    starts = rng.integers(0, n_windows, (n_resamples, n_blocks))
    counts = np.empty((n_resamples, n_windows), np.float32) if out is None else out
    if block == n_windows:
        counts[...] = 1
        return counts
    ends = starts + block
    ends[:, -1] -= n_blocks * block - n_windows  # the last block is cut to what is left
    wrapped = ends > n_windows
    downs = np.where(wrapped, ends - n_windows, ends)
    for first in range(0, n_resamples, CHUNK_RESAMPLES):
        rows = slice(first, first + CHUNK_RESAMPLES)
        size = starts[rows].shape[0] * n_windows
        offsets = np.arange(0, size, n_windows)[:, None]
        inside = downs[rows] != n_windows  # a block ending at the last window has no step down
        up = np.bincount((starts[rows] + offsets).ravel(), minlength=size)
        down = np.bincount((downs[rows] + offsets)[inside], minlength=size)
        steps = np.subtract(up, down, out=up).reshape(-1, n_windows)
        steps[:, 0] += wrapped[rows].sum(axis=1)
        counts[rows] = np.cumsum(steps, axis=1, out=steps)
    return counts


@functools.lru_cache(maxsize=8)
def resampling_weights(
    windows: tuple[int, ...], blocks: tuple[int, ...], n_resamples: int, seed: int, hierarchical: bool
) -> np.ndarray:
    """(n_resamples, sum(windows)) weights of every window of every run in each resample, read-only, in the
    smallest unsigned type that holds them (uint8 while no window can be drawn more than 255 times): a quarter
    of float32's memory to fill and to read.

    Runs are drawn with replacement first when `hierarchical` (their multiplicity scales their windows'
    weights), then circular blocks within each run; a block as long as its run keeps the run whole, which is
    how `windowed_quantile_draws` resamples runs as units. Cached: the gates of one run share it.
    """
    rng = np.random.default_rng(seed)
    k = len(windows)
    multiplicity = rng.multinomial(k, np.full(k, 1.0 / k), n_resamples) if hierarchical else None
    # a window is drawn at most once per block of its run, and its run at most k times
    most = max(-(-n // block) for n, block in zip(windows, blocks, strict=True)) * (k if hierarchical else 1)
    dtype = next(t for t in (np.uint8, np.uint16, np.uint32) if most <= np.iinfo(t).max)
    weights = np.empty((n_resamples, sum(windows)), dtype)
    first = 0
    for run, (n, block) in enumerate(zip(windows, blocks, strict=True)):
        part = circular_block_weights(n, block, n_resamples, rng, weights[:, first : first + n])
        if multiplicity is not None:
            part *= multiplicity[:, run, None].astype(dtype)
        first += n
    weights.flags.writeable = False
    return weights


def windowed_quantile_draws(
    q: float, upper_bounds: np.ndarray, runs: list[np.ndarray], n_resamples: int, seed: int, resample_runs: bool = True
) -> tuple[np.ndarray, Method]:
    """Bootstrap draws of the pooled q-quantile from per-window histograms, and the method that made them.

    `runs` holds one (windows, buckets) matrix of cumulative counts per run (last column +Inf). With several
    runs and `resample_runs`, the runs are the units: drawn with replacement, each kept whole (hierarchical
    bootstrap; the spread between runs already holds each run's sampling error, so resampling inside the runs
    too would count it twice). Otherwise each run is resampled with circular blocks, and the draws' spread
    around the estimate is widened by `block_spread_factor` for the correlation the blocks cut.
    """
    check_q(q)
    matrices = [np.asarray(run, dtype=np.float32) for run in runs]
    windows = tuple(m.shape[0] for m in matrices)
    bounds = np.asarray(upper_bounds, dtype=float)
    cumulative = np.vstack(matrices)
    if resample_runs and len(matrices) > 1:
        weights = resampling_weights(windows, windows, n_resamples, seed, True)
        method = Method(MethodKind.HIERARCHICAL, windows=windows, resamples=n_resamples)
        return _resampled_quantiles(q, bounds, weights, cumulative), method
    plans = [block_plan(m, q) for m in matrices]
    blocks = tuple(plan.length for plan in plans)
    weights = resampling_weights(windows, blocks, n_resamples, seed, False)
    draws = _resampled_quantiles(q, bounds, weights, cumulative)
    factors = [block_spread_factor(plan.own, plan.strongest, plan.length) for plan in plans]
    n_blocks = sum(n // b for n, b in zip(windows, blocks, strict=True))
    spread = BlockSpread(float(np.average(factors, weights=windows)), few_blocks_factor(n_blocks), n_blocks)
    method = Method(MethodKind.BLOCK, windows=windows, blocks=blocks, resamples=n_resamples)
    centre = histogram_quantile(q, bounds, cumulative.sum(axis=0))
    if spread.factor > 1.0 and centre > 0 and np.all(draws > 0):
        draws = np.exp(math.log(centre) + spread.factor * (np.log(draws) - math.log(centre)))
        method = replace(method, spread=spread)
    return draws, method


def _resampled_quantiles(q: float, bounds: np.ndarray, weights: np.ndarray, cumulative: np.ndarray) -> np.ndarray:
    """histogram_quantile of each resample (weights @ cumulative), computing only the columns that matter.

    A resample's bucket is known once two adjacent columns are computed, the one below its rank and the one
    reaching it. The first columns are the total and the pooled histogram's bucket for q with two on either side
    (resamples stay near it: usually one pass over the weights); each gap between computed columns that still
    holds a resample's bucket then gets BRACKET_PROBES evenly spaced columns a level, for those resamples only,
    so every gap shrinks eightfold a level.
    """
    last = bounds.size - 1
    pooled = cumulative.sum(axis=0, dtype=float)
    guess = min(int(np.searchsorted(pooled, q * pooled[-1], side="left")), last)
    first_columns = sorted({last, *range(max(guess - 2, 0), min(guess + 3, last + 1))})
    found = _products(weights, cumulative, first_columns)
    totals = found[:, -1]
    ranks = q * totals
    n = totals.size
    # per resample: the highest column known below its rank (-1: none) and the lowest known to reach it
    below_column, below = np.full(n, -1), np.zeros(n)
    bucket, at = np.full(n, last), totals.copy()
    rows, columns = np.arange(n), np.array(first_columns)
    while True:
        reaches = found >= ranks[rows, None]  # along columns: False for a prefix, then True (counts only grow)
        short = (~reaches).sum(axis=1)
        step = columns[np.maximum(short - 1, 0)]  # the highest column below the rank, where short > 0
        lower = (short > 0) & (step > below_column[rows])  # columns from other resamples' gaps may be looser
        below_column[rows[lower]], below[rows[lower]] = step[lower], found[lower, short[lower] - 1]
        step = columns[np.minimum(short, columns.size - 1)]  # the lowest column reaching it, where short < size
        upper = (short < columns.size) & (step < bucket[rows])
        bucket[rows[upper]], at[rows[upper]] = step[upper], found[upper, short[upper]]
        rows = np.flatnonzero(bucket - below_column > 1)
        if rows.size == 0:
            break
        gaps = np.unique(below_column[rows] * (last + 2) + bucket[rows])
        columns = np.array(sorted(set().union(*(_probes(g // (last + 2) + 1, g % (last + 2) - 1) for g in gaps))))
        found = _products(weights[rows], cumulative, columns.tolist())
    values = interpolate(lower_edges(bounds), bucket, ranks, below, at)
    return np.where(totals > 0, values, math.nan)


def _probes(first: int, stop: int) -> set[int]:
    """Up to BRACKET_PROBES evenly spaced columns from `first` to `stop`, both included."""
    return set(np.linspace(first, stop, min(BRACKET_PROBES, stop - first + 1)).round().astype(int).tolist())


def _products(weights: np.ndarray, cumulative: np.ndarray, columns: list[int]) -> np.ndarray:
    """weights @ cumulative[:, columns] in float64, PRODUCT_CELLS at a time: exact for integer counts, like the
    sums histogram_quantile of each resample would read."""
    picked = cumulative[:, columns].astype(float)
    found = np.empty((weights.shape[0], len(columns)))
    rows = max(1, PRODUCT_CELLS // picked.size)
    for first in range(0, weights.shape[0], rows):
        np.matmul(weights[first : first + rows].astype(float), picked, out=found[first : first + rows])
    return found
