"""Compact, diff-friendly JSON for large artifacts: count rows and a line layout.

A count row holds a vector of non-negative counts (bucket counts of one window) as one short list:
its first element is the index of the first non-empty bucket, then the counts up to the last non-empty
one, where a negative integer `-n` stands for `n` empty buckets (a single empty bucket is written `0`).
Counts are integers where they are whole, else rounded to `DECIMALS` places, so no float noise.

The layout writes an object with one key per line (indented), lists of numbers on one line, small
containers on one line, and each item of a list under a `row_keys` key on a line of its own.
"""

import json
from collections.abc import Iterable
from typing import Any

import numpy as np

DECIMALS = 3  # non-whole counts (Prometheus's extrapolated increase()) are kept to a thousandth
INLINE_WIDTH = 110  # a container whose compact form fits in this many characters stays on one line


def number(value: float) -> int | float:
    """A count as JSON: an int when whole, else rounded to DECIMALS places."""
    rounded = round(float(value), DECIMALS)
    return int(rounded) if rounded.is_integer() else rounded


def encode_row(counts: np.ndarray) -> list[int | float]:
    """A vector of non-negative counts as a count row (see module docstring); [] when every count is zero."""
    values = np.asarray(counts, dtype=float)
    nonzero = np.flatnonzero(values)
    return encode_sparse(nonzero, values[nonzero])


def encode_sparse(keys: np.ndarray, counts: np.ndarray) -> list[int | float]:
    """The count row of non-zero `counts` at ascending integer `keys` ≥ 0 (a histogram's non-empty buckets)."""
    keys = np.asarray(keys, dtype=np.int64)
    if keys.size == 0:
        return []
    values = np.asarray(counts)
    whole = values.dtype.kind in "iu" or bool(np.all(values == np.round(values)))
    gaps = np.diff(keys) - 1
    marked = gaps > 0
    before = np.concatenate(([0], np.cumsum(marked)))  # markers before each count
    out = np.zeros(1 + keys.size + int(marked.sum()), dtype=np.int64 if whole else float)
    positions = 1 + np.arange(keys.size) + before
    out[0] = keys[0]
    out[positions] = values
    out[positions[1:][marked] - 1] = np.where(gaps[marked] == 1, 0, -gaps[marked])
    if whole:
        return out.tolist()
    return [int(out[0]), *(number(v) for v in out[1:].tolist())]


def decode_sparse(row: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(keys, counts) of the non-zero counts of a count row; ValueError when the row is malformed."""
    if not row:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    first = row[0]
    if isinstance(first, bool) or not isinstance(first, int) or first < 0:
        raise ValueError(f"a count row starts with the first bucket's index (an integer ≥ 0), got {first!r}")
    try:
        values = np.asarray(row[1:], dtype=float)
    except (TypeError, ValueError):
        raise ValueError("a count row holds numbers only") from None
    if values.ndim != 1 or not np.isfinite(values).all():
        raise ValueError("a count row holds finite numbers only")
    markers = values < 0
    if np.any(values[markers] != np.round(values[markers])):
        raise ValueError("a run of empty buckets is a negative integer")
    advance = np.where(markers, -values, 1.0)
    positions = first + np.concatenate(([0.0], np.cumsum(advance)[:-1]))
    keep = ~markers & (values > 0)
    return positions[keep].astype(np.int64), values[keep]


def decode_row(row: list[Any], size: int) -> np.ndarray:
    """The counts vector (length `size`) of a count row; ValueError when the row is malformed or too long."""
    keys, values = decode_sparse(row)
    if keys.size and keys[-1] >= size:
        raise ValueError(f"a count row within the {size} buckets (a negative number in a row is a run of empty "
                         "buckets, never a count)")
    counts = np.zeros(size)
    counts[keys] = values
    return counts


def dumps(document: Any, row_keys: Iterable[str] = ()) -> str:
    """`document` as JSON in the line layout (see module docstring), ending with a newline."""
    rows = frozenset(row_keys)
    return _layout(document, 0, False, rows) + "\n"


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _flat(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _layout(value: Any, depth: int, rows: bool, row_keys: frozenset[str]) -> str:
    if not isinstance(value, dict | list):
        return _compact(value)
    if isinstance(value, list) and all(not isinstance(item, dict | list) for item in value):
        return _compact(value)
    if not rows and len(_compact(value)) <= INLINE_WIDTH:
        return _compact(value)
    pad, inner = " " * depth, " " * (depth + 1)
    if isinstance(value, list):
        items = [inner + (_flat(item) if rows else _layout(item, depth + 1, False, row_keys)) for item in value]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    items = [
        f"{inner}{_compact(key)}: {_layout(item, depth + 1, key in row_keys and isinstance(item, list), row_keys)}"
        for key, item in value.items()
    ]
    return "{\n" + ",\n".join(items) + "\n" + pad + "}"
