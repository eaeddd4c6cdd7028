"""Baselines against runs and against each other: load-profile comparability, diff, and calibrated tolerances.

- Comparability: the candidate's load profile against the baseline's (users, arrival rate, duration within a
  relative tolerance; model, locustfile content, target host class exactly; not the generator's layout). A
  difference caps the relative checks at WARN (`mismatch = "warn"`) or makes them NO_DATA (`"refuse"`).
- Diff: baseline B judged against baseline A by the spec's gates, with the gates' own statistics.
- Calibration: from k runs of one build, per gate the smallest `max_regression` a same-build candidate PASSes
  95 % of the time at the spec's level, and the regression that tolerance then FAILs 95 % of the time.
"""

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import ndtri

from validator.baseline.file import Baseline
from validator.baseline.provenance import file_sha256, host_class
from validator.evidence import IncomparableEvidence, Measurement
from validator.judge import analysis
from validator.judge.gates import RELATIVE, GateResult, Status, evaluate_gate, fail_level, severity, worst
from validator.spec import GateSpec, Spec
from validator.spec.baseline import BaselineSpec, Mismatch
from validator.stats.intervals import interval_level

POWER = 0.95  # "95 % of the time": the same-build PASS rate and the detection rate calibrated for
RELATIVE_FIELDS = ("users", "arrival_rate", "duration_s")
EXACT_FIELDS = ("model",)  # how many generator processes offered the load is not the load; their health is checked


@dataclass(frozen=True)
class Difference:
    """One way the candidate's load differs from the baseline's: the field, both values, the tolerance used."""

    field: str
    candidate: Any
    baseline: Any
    tolerance: float | None = None  # relative, for users, arrival rate and duration

    @property
    def text(self) -> str:
        """The difference as a check's reason and the report name it: `users 40 vs 20 (beyond ± 10 %)`."""
        name = _FIELD_NAMES.get(self.field, self.field)
        tolerance = f" (beyond ± {self.tolerance * 100:g} %)" if self.tolerance is not None else ""
        return f"{name} {self.candidate} vs {self.baseline}{tolerance}"


_FIELD_NAMES = {"duration_s": "duration (s)", "arrival_rate": "arrival rate (req/s)", "locustfile_sha256": "locustfile"}


@dataclass(frozen=True)
class Comparability:
    """What differs between the candidate's load and the baseline's, and the policy for relative checks."""

    differences: tuple[Difference, ...]
    policy: Mismatch = "warn"

    @property
    def reason(self) -> str:
        """Why a relative check is capped: what differs from the baseline's load."""
        verb = "refused" if self.policy == "refuse" else "at best WARN"
        return f"load differs from the baseline's ({'; '.join(d.text for d in self.differences)}): {verb}"

    def applied(self, results: list[GateResult]) -> list[GateResult]:
        """The results with every relative check capped at WARN (warn) or made NO_DATA (refuse)."""
        if not self.differences:
            return results
        return [self._capped(result) for result in results]

    def _capped(self, result: GateResult) -> GateResult:
        if not result.checks or (result.change is None and result.gate.max_regression is None):
            return result  # nothing was compared (e.g. NO_DATA before any check)
        reason = self.reason
        checks = []
        for check in result.checks:
            if check.kind in RELATIVE:
                status = Status.NO_DATA if self.policy == "refuse" else max(check.status, Status.WARN, key=severity)
                check = dataclasses.replace(check, status=status, reason=f"{reason}; {check.reason}")
            checks.append(check)
        status = worst([check.status for check in checks])
        deciding = next(check for check in checks if check.status == status)
        return dataclasses.replace(result, status=status, reason=deciding.reason, checks=tuple(checks))


def comparability(
    profile: dict[str, Any] | None, baseline: Baseline | None, settings: BaselineSpec, service: str
) -> Comparability:
    """The candidate (its service, its load profile from load.json) against the baseline's; a profile differs in
    nothing when either side's is unknown. Another service's baseline (allow_foreign_baseline) always differs."""
    foreign = [Difference("service", service, baseline.service)] if baseline and baseline.service != service else []
    theirs = baseline.load_profile if baseline else None
    if profile is None or theirs is None or baseline is None:
        return Comparability(tuple(foreign), settings.mismatch)
    differences = foreign + [
        Difference(key, profile.get(key), theirs.get(key), settings.tolerance)
        for key in RELATIVE_FIELDS
        if _apart(profile.get(key), theirs.get(key), settings.tolerance)
    ]
    differences += [
        Difference(key, profile.get(key), theirs.get(key))
        for key in EXACT_FIELDS
        if key in theirs and profile.get(key) != theirs.get(key)
    ]
    ours_hash = file_sha256(Path(profile["locustfile"])) if profile.get("locustfile") else None
    if ours_hash and theirs.get("locustfile_sha256") and ours_hash != theirs["locustfile_sha256"]:
        differences.append(Difference("locustfile_sha256", ours_hash[:12], theirs["locustfile_sha256"][:12]))
    ours_class, their_target = host_class(profile.get("target")), baseline.provenance.get("target") or {}
    if ours_class and their_target.get("host_class") and ours_class != their_target["host_class"]:
        differences.append(Difference("target host class", ours_class, their_target["host_class"]))
    return Comparability(tuple(differences), settings.mismatch)


def _apart(ours: Any, theirs: Any, tolerance: float) -> bool:
    if ours is None and theirs is None:
        return False
    if not isinstance(ours, int | float) or not isinstance(theirs, int | float):
        return True
    return abs(ours - theirs) > tolerance * max(abs(theirs), 1e-12)


def diff(older: Baseline, newer: Baseline, spec: Spec, reference: Baseline | None = None) -> list[GateResult]:
    """`newer` judged against `older` by every gate of the spec, as a candidate run would be, and a gate's
    `max_drift` against the pinned `reference`; a gate without `max_regression` shows the change too (its status
    stays that of its absolute bounds)."""
    failing, coverage = fail_level(spec).level, interval_level(spec.level)
    pinned, pinned_label = (reference.measurements, reference.label) if reference else ({}, None)
    results = []
    for gate in spec.gates:
        ours, theirs = newer.measurements.get(gate.measurement_key), older.measurements.get(gate.measurement_key)
        result = evaluate_gate(gate, ours, theirs, spec.level, older.label, spec.resampling, failing,
                               pinned.get(gate.measurement_key), pinned_label)
        if result.change is None and ours and theirs and ours.evidence and theirs.evidence:
            try:
                change = analysis.change(ours.evidence, theirs.evidence, coverage, spec.resampling, theirs.run_noise)
            except IncomparableEvidence:
                change = None
            result = dataclasses.replace(result, change=change, baseline=theirs.evidence.interval(coverage))
        results.append(result)
    return results


@dataclass(frozen=True)
class Calibration:
    """One gate's noise floor from k same-build runs and the tolerance it supports."""

    gate: GateSpec
    runs: int
    candidate_runs: int
    run_sd: float  # one run's SD on the comparison scale (log for ratios, fraction for differences)
    standard_error: float  # of a k_candidate vs k_baseline comparison
    ratio: bool
    tolerance: float  # the smallest max_regression a same-build candidate PASSes 95 % of the time
    caught: float  # the regression that tolerance FAILs 95 % of the time


def calibrate(runs: list[dict[str, Measurement]], spec: Spec) -> list[Calibration]:
    """Per gate with evidence in every run: the noise floor and the tolerance it supports (normal model on the
    comparison scale; one run's SD is the runs' spread, floored at a run's own sampling error, as the gates do)."""
    k_b, k_c = len(runs), spec.load.repeat
    z_pass, z_fail, z_power = ndtri(spec.level), ndtri(fail_level(spec).level), ndtri(POWER)
    rows = []
    for gate in spec.gates:
        parts = [run.get(gate.metric.name) for run in runs]
        evidences = [p.evidence for p in parts if p is not None and p.evidence is not None]
        if len(evidences) != k_b or k_b < 2:
            continue
        spreads = np.array([evidence.spread() for evidence in evidences], dtype=float)
        if not np.isfinite(spreads).all():
            continue
        run_sd = max(float(np.std(spreads[:, 0], ddof=1)), math.sqrt(float(np.mean(spreads[:, 1] ** 2))))
        error = run_sd * math.sqrt(1 / k_c + 1 / k_b)
        ratio = getattr(evidences[0], "change_kind", "ratio") == "ratio"
        worse_up = gate.metric.higher_is_worse
        passing, failing = (z_pass + z_power) * error, (z_fail + z_power) * error
        if not ratio:
            tolerance, caught = passing, passing + failing
        elif worse_up:
            tolerance, caught = math.expm1(passing), math.expm1(passing + failing)
        else:
            tolerance, caught = -math.expm1(-passing), -math.expm1(-passing - failing)
        rows.append(Calibration(gate, k_b, k_c, run_sd, error, ratio, tolerance, caught))
    return rows
