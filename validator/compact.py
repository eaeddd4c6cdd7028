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
    if nonzero.size == 0:
        return []
    row: list[int | float] = [int(nonzero[0])]
    previous = int(nonzero[0]) - 1
    whole = bool(np.all(values[nonzero] == np.round(values[nonzero])))
    for index in nonzero.tolist():
        gap = index - previous - 1
        if gap == 1:
            row.append(0)
        elif gap > 1:
            row.append(-gap)
        row.append(int(values[index]) if whole else number(values[index]))
        previous = index
    return row


def decode_row(row: list[Any], size: int) -> np.ndarray:
    """The counts vector (length `size`) of a count row; ValueError when the row is malformed or too long."""
    counts = np.zeros(size)
    if not row:
        return counts
    if not isinstance(row[0], int) or row[0] < 0:
        raise ValueError(f"a count row starts with the first bucket's index (an integer ≥ 0), got {row[0]!r}")
    position = row[0]
    for value in row[1:]:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"a count row holds numbers, got {value!r}")
        if value < 0:
            if value != int(value):
                raise ValueError(f"a run of empty buckets is a negative integer, got {value!r}")
            position -= int(value)
            continue
        if position >= size:
            raise ValueError(f"a count row runs past the {size} buckets")
        counts[position] = value
        position += 1
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
