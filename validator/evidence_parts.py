"""The small values evidence is made of: a change against the baseline, run-to-run noise, the refusal to compare
unlike evidence, and the compact JSON form of one window's bucket counts."""

from dataclasses import dataclass
from typing import Any

import numpy as np

from validator.spec.gates import ChangeScale
from validator.stats.intervals import Interval


@dataclass(frozen=True)
class Change:
    """Candidate against baseline: a ratio (latency, throughput) or a difference (success rate)."""

    kind: ChangeScale
    interval: Interval


class IncomparableEvidence(ValueError):
    """The baseline holds a different kind of evidence for this metric than the candidate."""


@dataclass(frozen=True)
class RunNoise:
    """Run-to-run standard deviation of a figure beyond sampling error (log scale for ratios, linear for
    differences), measured from `runs` repeated baseline runs of one build."""

    sd: float
    runs: int

    def to_dict(self) -> dict[str, Any]:
        return {"sd": self.sd, "runs": self.runs}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunNoise":
        return cls(float(data["sd"]), int(data["runs"]))


def encode_window(cumulative: np.ndarray) -> dict[str, Any]:
    """One window's cumulative bucket counts as the per-bucket counts between its first and last non-zero."""
    per_bucket = np.diff(np.asarray(cumulative, dtype=float), prepend=0.0)
    nonzero = np.flatnonzero(per_bucket)
    if nonzero.size == 0:
        return {"from": 0, "counts": []}
    first, last = int(nonzero[0]), int(nonzero[-1])
    return {
        "from": first,
        "counts": [int(c) if float(c).is_integer() else float(c) for c in per_bucket[first : last + 1]],
    }


def decode_window(data: dict[str, Any], n_buckets: int) -> np.ndarray:
    per_bucket = np.zeros(n_buckets)
    values = np.asarray(data["counts"], dtype=float)
    start = int(data["from"])
    if start < 0 or start + values.size > n_buckets:
        raise ValueError(f"a window's counts run past the {n_buckets} buckets")
    per_bucket[start : start + values.size] = values
    return np.cumsum(per_bucket)
