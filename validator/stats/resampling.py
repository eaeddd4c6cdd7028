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
BRACKET_PROBES = 16  # columns probed per level when searching the resampled quantiles' buckets
BLOCK_QUANTILES = (0.5, 0.95, 0.99)  # the block length serves every quantile of a run
CHUNK_RESAMPLES = 128  # resamples handled at once where a whole (resamples, windows) array would be needed


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


def circular_block_weights(n_windows: int, block: int, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """(n_resamples, n_windows) counts of how often each window is drawn by a circular block bootstrap, float32.

    ceil(n/block) blocks of consecutive windows (wrapping around), the last one cut so every resample has
    exactly n windows. Each block adds +1 where it starts and -1 where it ends (a wrapped block also +1 at
    window 0), counted CHUNK_RESAMPLES resamples at a time, and one running sum turns those steps into counts.
    """
    if not 1 <= block <= n_windows:
        raise ValueError(f"block must be within [1, {n_windows}], got {block!r}")
    n_blocks = -(-n_windows // block)
    starts = rng.integers(0, n_windows, (n_resamples, n_blocks))
    ends = starts + block
    ends[:, -1] -= n_blocks * block - n_windows  # the last block is cut to what is left
    wrapped = ends > n_windows
    downs = np.where(wrapped, ends - n_windows, ends)
    steps = np.empty((n_resamples, n_windows), np.float32)
    for first in range(0, n_resamples, CHUNK_RESAMPLES):
        rows = slice(first, first + CHUNK_RESAMPLES)
        size = starts[rows].shape[0] * n_windows
        offsets = np.arange(0, size, n_windows)[:, None]
        inside = downs[rows] != n_windows  # a block ending at the last window has no step down
        up = np.bincount((starts[rows] + offsets).ravel(), minlength=size)
        down = np.bincount((downs[rows] + offsets)[inside], minlength=size)
        steps[rows] = np.subtract(up, down, out=up).reshape(-1, n_windows)
    steps[:, 0] += wrapped.sum(axis=1)
    return np.cumsum(steps, axis=1, out=steps)


@functools.lru_cache(maxsize=8)
def resampling_weights(
    windows: tuple[int, ...], blocks: tuple[int, ...], n_resamples: int, seed: int, hierarchical: bool
) -> np.ndarray:
    """(n_resamples, sum(windows)) weights of every window of every run in each resample, float32, read-only.

    Runs are drawn with replacement first when `hierarchical` (their multiplicity scales their windows'
    weights), then circular blocks within each run; a block as long as its run keeps the run whole, which is
    how `windowed_quantile_draws` resamples runs as units. Cached: the gates of one run share it.
    """
    rng = np.random.default_rng(seed)
    k = len(windows)
    multiplicity = rng.multinomial(k, np.full(k, 1.0 / k), n_resamples) if hierarchical else None
    parts = [circular_block_weights(n, block, n_resamples, rng) for n, block in zip(windows, blocks, strict=True)]
    if multiplicity is not None:
        for part, times in zip(parts, multiplicity.T.astype(np.float32), strict=True):
            part *= times[:, None]
    weights = parts[0] if k == 1 else np.concatenate(parts, axis=1)
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

    The bracket of buckets where the resampled ranks fall is narrowed a level at a time by probing
    BRACKET_PROBES evenly spaced columns, so the cost is O(resamples · windows · probes · log K).
    """
    totals = (weights @ cumulative[:, -1]).astype(float)
    ranks = q * totals
    first, last = 0, bounds.size - 1  # the answer's bucket lies in first..last for every resample
    while last - first > BRACKET_PROBES:
        probes = np.unique(np.linspace(first, last, BRACKET_PROBES).round().astype(int))
        found = (weights @ cumulative[:, probes] < ranks[:, None]).sum(axis=1)
        narrowed = (
            int(probes[found.min() - 1]) if found.min() > 0 else first,
            int(probes[min(found.max(), probes.size - 1)]),
        )
        if narrowed == (first, last):
            break  # the resamples spread over the whole bracket: compute it in full
        first, last = narrowed
    fine = weights @ cumulative[:, first : last + 1]
    bucket = first + np.minimum((fine < ranks[:, None]).sum(axis=1), last - first)
    at, below = _counts_at(weights, cumulative, bucket)
    values = interpolate(lower_edges(bounds), bucket, ranks, below, at)
    return np.where(totals > 0, values, math.nan)


def _counts_at(weights: np.ndarray, cumulative: np.ndarray, bucket: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each resample's cumulative count (float64 sums) at its bucket and at the bucket below (0 below the first):
    the resamples sorted by bucket, then one product per bucket over CHUNK_RESAMPLES of them at a time."""
    order = np.argsort(bucket, kind="stable")
    at, below = np.empty(bucket.size), np.zeros(bucket.size)
    for start in range(0, bucket.size, CHUNK_RESAMPLES):
        rows = order[start : start + CHUNK_RESAMPLES]
        chunk, buckets = weights[rows], bucket[rows]
        keys, firsts = np.unique(buckets, return_index=True)
        for key, low, high in zip(keys.tolist(), firsts.tolist(), [*firsts[1:].tolist(), rows.size], strict=True):
            at[rows[low:high]] = np.einsum("bn,n->b", chunk[low:high], cumulative[:, key], dtype=float)
            if key > 0:
                below[rows[low:high]] = np.einsum("bn,n->b", chunk[low:high], cumulative[:, key - 1], dtype=float)
    return at, below
