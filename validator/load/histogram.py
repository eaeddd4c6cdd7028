"""The client-side latency histogram: log-bucketed, mergeable, serialisable, plus per-window timelines.

Buckets follow DDSketch's logarithmic mapping with relative accuracy 0.001: bucket key k covers
(gamma**(k-1), gamma**k] microseconds, gamma = 1.001/0.999, so every recorded value is within 0.1 %
of its bucket's representative value and a bucket is 0.2 % wide. Keys are the same integers a
DDSketch with that accuracy uses, so our histograms and DDSketch sketches can be merged.

This module knows nothing about Locust or Prometheus: it records numbers, merges and serialises them.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ddsketch.mapping import LogarithmicMapping

from validator import compact

RELATIVE_ACCURACY = 0.001
MIN_VALUE_US = 1.0  # values below 1 µs are recorded as 1 µs
MICROSECONDS_PER_SECOND = 1e6

_MAPPING = LogarithmicMapping(relative_accuracy=RELATIVE_ACCURACY)
# The hot path computes _MAPPING.key(v) inline (2.5x faster than the method call), with the same
# float operations ddsketch 3 uses, so keys are identical (tests/unit/test_histogram.py checks it).
_GAMMA_MANTISSA = 2 * RELATIVE_ACCURACY / (1 - RELATIVE_ACCURACY)
_KEYS_PER_OCTAVE = (1 / math.log1p(_GAMMA_MANTISSA)) * math.log(2)


def bucket_key(value_us: float) -> int:
    """The bucket key of a value (µs, ≥ 1): ceil(log_gamma(value)), exactly as DDSketch's LogarithmicMapping."""
    return math.ceil(math.log(value_us, 2) * _KEYS_PER_OCTAVE)


def upper_edges_us(keys: np.ndarray) -> np.ndarray:
    """The upper edge (µs) of each bucket key: gamma**key."""
    return np.power(_MAPPING.gamma, np.asarray(keys, dtype=float))


class LatencyHistogram:
    """Counts of latencies (µs) per log bucket, with exact total, sum, min and max."""

    __slots__ = ("_counts", "_packed", "total", "sum", "min", "max")

    def __init__(self) -> None:
        self._counts: dict[int, int] = {}
        self._packed: tuple[np.ndarray, np.ndarray] | None = None  # (keys, counts) as read from a file, until changed
        self.total = 0
        self.sum = 0.0
        self.min = math.inf  # inf / -inf while empty
        self.max = -math.inf

    def record(self, value_us: float, count: int = 1) -> None:
        """Count `value_us` (µs; below 1 µs counts as 1 µs) `count` times. Called once per request."""
        if value_us < MIN_VALUE_US:
            value_us = MIN_VALUE_US
        key = math.ceil(math.log(value_us, 2) * _KEYS_PER_OCTAVE)  # bucket_key(), inlined
        if self._packed is not None:
            self._unpack()
        counts = self._counts
        counts[key] = counts.get(key, 0) + count
        self.total += count
        self.sum += value_us * count
        if value_us < self.min:
            self.min = value_us
        if value_us > self.max:
            self.max = value_us

    def record_key(self, key: int, value_us: float) -> None:
        """Count `value_us` (µs, ≥ 1 µs) once in bucket `key`, which the caller computed as `bucket_key(value_us)`:
        a request counted in several histograms (its window's, its endpoint's) computes its key once."""
        if self._packed is not None:
            self._unpack()
        counts = self._counts
        counts[key] = counts.get(key, 0) + 1
        self.total += 1
        self.sum += value_us
        if value_us < self.min:
            self.min = value_us
        if value_us > self.max:
            self.max = value_us

    def merge(self, other: "LatencyHistogram") -> None:
        """Add every count of `other` into this histogram (in place)."""
        if self._packed is None and not self._counts and other._packed is not None:
            self._packed = other._packed  # read-only arrays, shared until either side changes
        else:
            self._add_buckets(other)
        self.total += other.total
        self.sum += other.sum
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)

    def _add_buckets(self, other: "LatencyHistogram") -> None:
        """Add `other`'s bucket counts into this histogram's dict (unpacking it first if it was read from a file)."""
        if self._packed is not None:
            self._unpack()
        counts = self._counts
        packed = other._packed
        pairs = other._counts.items() if packed is None else zip(packed[0].tolist(), packed[1].tolist(), strict=True)
        for key, count in pairs:
            counts[key] = counts.get(key, 0) + count

    def copy(self) -> "LatencyHistogram":
        """An independent histogram with the same counts."""
        duplicate = LatencyHistogram()
        duplicate.merge(self)
        return duplicate

    def buckets(self) -> tuple[np.ndarray, np.ndarray]:
        """(keys, counts) of the non-empty buckets, keys ascending, both int64."""
        if self._packed is not None:
            return self._packed[0].astype(np.int64), self._packed[1].astype(np.int64)
        keys = np.fromiter(self._counts.keys(), dtype=np.int64, count=len(self._counts))
        counts = np.fromiter(self._counts.values(), dtype=np.int64, count=len(self._counts))
        order = np.argsort(keys)
        return keys[order], counts[order]

    @classmethod
    def added(cls, histograms: Iterable["LatencyHistogram"]) -> "LatencyHistogram":
        """One histogram holding every count of `histograms` (as merging them in turn), added in one numpy pass."""
        parts = list(histograms)
        pairs = [part.buckets() if part._packed is None else part._packed for part in parts]
        filled = [(keys, counts) for keys, counts in pairs if keys.size]
        low = min((int(keys[0]) for keys, _ in filled), default=0)
        totals = np.zeros(max((int(keys[-1]) + 1 - low for keys, _ in filled), default=0), np.int64)
        present = np.zeros(totals.size, bool)  # a key with a zero count is kept, as `merge` keeps it
        for keys, counts in filled:  # a part's keys are distinct and ascending
            index = keys.astype(np.intp) - low
            totals[index] += counts
            present[index] = True
        found = np.flatnonzero(present)
        histogram = cls()
        histogram._packed = _packed(found + low, totals[found])
        histogram.total = sum(part.total for part in parts)
        for part in parts:  # in order, so the float sum is the one `merge` makes
            histogram.sum += part.sum
            histogram.min = min(histogram.min, part.min)
            histogram.max = max(histogram.max, part.max)
        return histogram

    def _unpack(self) -> None:
        """Turn the packed buckets of a histogram read from a file into the dict `record` and `merge` update."""
        assert self._packed is not None
        keys, counts = self._packed
        self._counts = dict(zip(keys.tolist(), counts.tolist(), strict=True))
        self._packed = None

    def quantile(self, q: float) -> float:
        """The q-quantile in µs, interpolated linearly inside its bucket and clamped to [min, max]; NaN if empty."""
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"quantile q must be within [0, 1], got {q!r}")
        return float(self.quantiles([q])[0])

    def quantiles(self, probabilities: Sequence[float]) -> np.ndarray:
        """The quantiles (µs) at each probability in one pass over the buckets, as `quantile` reads each; NaN for an
        empty histogram."""
        if self.total == 0:
            return np.full(len(probabilities), math.nan)
        keys, counts = self.buckets()
        cumulative = np.cumsum(counts)
        ranks = np.asarray(probabilities, dtype=float) * self.total
        index = np.minimum(np.searchsorted(cumulative, ranks, side="left"), len(keys) - 1)
        upper = upper_edges_us(keys[index])
        lower = upper / _MAPPING.gamma
        before = cumulative[index] - counts[index]
        values = lower + (upper - lower) * (ranks - before) / counts[index]
        return np.clip(values, self.min, self.max)

    def to_dict(self) -> dict[str, Any]:
        """Compact JSON form: the non-empty buckets as one count row (`validator.compact`: first key, counts, `-n`
        for n empty buckets), sum/min/max in µs to the nanosecond."""
        keys, counts = self.buckets()
        empty = self.total == 0
        return {
            "relative_accuracy": RELATIVE_ACCURACY,
            "buckets": compact.encode_sparse(keys, counts),
            "sum": round(self.sum, 3),
            "min": None if empty else round(self.min, 3),
            "max": None if empty else round(self.max, 3),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "LatencyHistogram":
        """Rebuild a histogram from `to_dict` output; refuses another relative accuracy."""
        if data.get("relative_accuracy") != RELATIVE_ACCURACY:
            raise ValueError(
                f"histogram relative_accuracy must be {RELATIVE_ACCURACY}, got {data.get('relative_accuracy')!r}"
            )
        keys, counts = compact.decode_sparse(data["buckets"])
        if np.any(counts != np.round(counts)):
            raise ValueError("histogram bucket counts must be whole numbers")
        return cls.from_buckets(keys, counts.astype(np.int64), float(data["sum"]), data.get("min"), data.get("max"))

    @classmethod
    def from_buckets(
        cls, keys: np.ndarray, counts: np.ndarray, total_us: float, min_us: float | None, max_us: float | None
    ) -> "LatencyHistogram":
        """A histogram from its non-empty buckets (keys, counts) and its sum, min and max in µs."""
        histogram = cls()
        keys, counts = np.asarray(keys, dtype=np.int64), np.asarray(counts, dtype=np.int64)
        if keys.shape != counts.shape:
            raise ValueError(f"a histogram has {keys.size} bucket keys but {counts.size} counts")
        order = np.argsort(keys, kind="stable")
        histogram._packed = _packed(keys[order], counts[order])
        histogram.total = int(np.sum(counts))
        histogram.sum = float(total_us)
        if histogram.total:
            if min_us is None or max_us is None:
                raise ValueError("a histogram with counts needs its min and max")
            histogram.min, histogram.max = float(min_us), float(max_us)
        return histogram


def _packed(keys: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Packed buckets, read-only because copies of a histogram share them: keys and counts each in the narrowest
    integer type that holds them (a window's buckets take 6 bytes each, not a dict entry)."""
    packed = (_narrowest(keys, np.int16), _narrowest(counts, np.int32))
    for array in packed:
        array.flags.writeable = False
    return packed


def _narrowest(values: np.ndarray, smallest: type[np.signedinteger]) -> np.ndarray:
    """`values` (integers) as `smallest`, int32 or int64: the first that holds every one of them."""
    for kind in (smallest, np.int32):
        limits = np.iinfo(kind)
        if not values.size or limits.min <= values.min() <= values.max() <= limits.max:
            return values.astype(kind)
    return values.astype(np.int64)


@dataclass
class Window:
    """What one time window recorded: its latencies and its success and failure counts."""

    index: int
    histogram: LatencyHistogram = field(default_factory=LatencyHistogram)
    successes: int = 0
    failures: int = 0


class Timeline:
    """Per-window histograms: window i covers [origin + i*window_seconds, origin + (i+1)*window_seconds)."""

    def __init__(self, origin: float, window_seconds: float = 1.0) -> None:
        if not window_seconds > 0:
            raise ValueError(f"window_seconds must be > 0, got {window_seconds!r}")
        self.origin = origin
        self.window_seconds = window_seconds
        self._windows: dict[int, Window] = {}

    def window_at(self, timestamp: float) -> Window:
        """The window `timestamp` (same clock as `origin`) falls into, created when it is the first there."""
        index = math.floor((timestamp - self.origin) / self.window_seconds)
        window = self._windows.get(index)
        if window is None:
            window = self._windows[index] = Window(index)
        return window

    def record(self, timestamp: float, value_us: float, success: bool) -> None:
        """Count one request that completed at `timestamp` after `value_us` µs."""
        window = self.window_at(timestamp)
        window.histogram.record(value_us)
        if success:
            window.successes += 1
        else:
            window.failures += 1

    def windows(self) -> list[Window]:
        """The windows that recorded anything, in time order (windows without requests are absent)."""
        return [self._windows[index] for index in sorted(self._windows)]

    @property
    def successes(self) -> int:
        return sum(window.successes for window in self._windows.values())

    @property
    def failures(self) -> int:
        return sum(window.failures for window in self._windows.values())

    def merge(self, other: "Timeline") -> None:
        """Add `other`'s windows into this timeline (in place); both must share origin and window size."""
        if (other.origin, other.window_seconds) != (self.origin, self.window_seconds):
            raise ValueError(
                f"cannot merge timelines with origin/window {other.origin}/{other.window_seconds} s "
                f"into {self.origin}/{self.window_seconds} s"
            )
        self._add(other._windows.values())

    def select(self, first_window: int, last_window_exclusive: int) -> "Timeline":
        """A copy holding only windows first_window ≤ i < last_window_exclusive (e.g. without warm-up)."""
        selected = Timeline(self.origin, self.window_seconds)
        selected._add(w for i, w in self._windows.items() if first_window <= i < last_window_exclusive)
        return selected

    def combined(self) -> LatencyHistogram:
        """All windows merged into one histogram."""
        return LatencyHistogram.added(window.histogram for window in self._windows.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "window_seconds": self.window_seconds,
            "windows": [
                {"index": w.index, "successes": w.successes, "failures": w.failures, "histogram": w.histogram.to_dict()}
                for w in self.windows()
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Timeline":
        timeline = cls(float(data["origin"]), float(data["window_seconds"]))
        for item in data["windows"]:
            index = int(item["index"])
            histogram = LatencyHistogram.from_dict(item["histogram"])
            timeline._windows[index] = Window(index, histogram, int(item["successes"]), int(item["failures"]))
        return timeline

    def _window(self, index: int) -> Window:
        window = self._windows.get(index)
        if window is None:
            window = self._windows[index] = Window(index)
        return window

    def _add(self, windows: Iterable[Window]) -> None:
        for source in windows:
            window = self._window(source.index)
            window.histogram.merge(source.histogram)
            window.successes += source.successes
            window.failures += source.failures
