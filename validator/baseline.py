"""The versioned baseline file: `baselines/<service>/<version>.json`, reviewed in git like code.

It stores, per metric, the estimate and interval for humans and the evidence (bucket counts and
per-window bucket counts of every run, successes/total, count/seconds) for the statistics, so
intervals can be recomputed by any method at any coverage. Recorded from k ≥ 2 runs of the
same build, it also carries each metric's run-to-run noise, which widens a one-run candidate's
comparison. Provenance says where it came from: date, slagate version, git commit, spec, load.
Schema 2 added per-window counts and run noise; schema 1 files must be re-recorded.
"""

import json
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from validator import __version__, artifacts
from validator.errors import InputFileError
from validator.evidence import Evidence, Measurement, RunNoise
from validator.stats.intervals import interval_level
from validator.stats.runs import run_noise_sd

SCHEMA_VERSION = artifacts.SCHEMA_VERSIONS["baseline"]
_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class BaselineError(InputFileError):
    """A baseline file that cannot be used; one line naming the file, key and expectation."""


@dataclass(frozen=True)
class Baseline:
    """A loaded baseline: its identity and one measurement per metric."""

    path: Path
    service: str
    version: str
    measurements: dict[str, Measurement]
    provenance: dict[str, Any]

    @property
    def label(self) -> str:
        """How the report names it: service, version and file."""
        return f"baseline {self.service} {self.version} ({self.path})"


def load_baseline(path: Path) -> Baseline:
    """Read and validate a baseline file."""
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        expected = "an existing baseline file (record one with `slagate baseline record`)"
        raise BaselineError(path, "(file)", expected) from None
    except json.JSONDecodeError as error:
        raise BaselineError(path, "(syntax)", f"valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise BaselineError(path, "(root)", "a JSON object")
    if document.get("schema_version") != SCHEMA_VERSION:
        raise BaselineError(
            path,
            "schema_version",
            f"{SCHEMA_VERSION}, got {document.get('schema_version')!r} (re-record it with "
            "`slagate baseline record <run-dir>...`: schema 2 holds per-window counts and run-to-run noise)",
        )
    artifacts.validate(document, "baseline", path)
    metrics = document["metrics"]
    measurements = {}
    for name, entry in metrics.items():
        try:
            measurements[name] = Measurement.from_dict({"metric": name, **entry})
        except (KeyError, TypeError, ValueError) as error:
            raise BaselineError(path, f"metrics.{name}", f"a measurement with valid evidence ({error})") from None
    return Baseline(path, document["service"], document["version"], measurements, document.get("provenance", {}))


def pool_runs(runs: list[dict[str, Measurement]]) -> dict[str, Measurement]:
    """One measurement per metric over several runs of the same build: evidence pooled (each run's windows
    kept), and with k ≥ 2 runs the metric's run-to-run noise. A metric missing from any run is missing."""
    pooled = {}
    for name in sorted(set().union(*runs)):
        parts = [run.get(name) for run in runs]
        first = parts[0]
        evidences = [part.evidence for part in parts if part is not None and part.evidence is not None]
        if first is None or len(evidences) < len(parts):
            why = next((p.error for p in parts if p is not None and p.error), "missing from at least one run")
            pooled[name] = Measurement(name, first.source if first else "", None, why)
            continue
        noise = run_noise(evidences) if len(evidences) > 1 else None
        pooled[name] = Measurement(name, first.source, evidences[0].pooled(evidences[1:]), None, noise)
    return pooled


def run_noise(evidences: list[Evidence]) -> RunNoise:
    """The run-to-run standard deviation beyond each run's own sampling error, on the comparison scale."""
    spreads = [evidence.spread() for evidence in evidences]
    sd = run_noise_sd(np.array([s[0] for s in spreads]), np.array([s[1] for s in spreads]))
    return RunNoise(sd, len(evidences))


def baseline_document(
    service: str, version: str, measurements: dict[str, Measurement], level: float, provenance: dict[str, Any]
) -> dict[str, Any]:
    """The JSON document of a baseline recorded from (pooled) measurements. Each figure's interval is the one the
    report shows for bounds at the one-sided `level` (coverage 2·level − 1); the gates recompute from evidence."""
    coverage = interval_level(level)
    metrics = {}
    for name, measurement in sorted(measurements.items()):
        entry = measurement.to_dict()
        entry.pop("metric")
        if measurement.evidence is not None:
            interval = measurement.evidence.interval(coverage)
            entry["estimate"] = interval.estimate
            entry["interval"] = {"low": interval.low, "high": interval.high, "coverage": coverage}
        metrics[name] = entry
    return {
        "schema_version": SCHEMA_VERSION,
        "service": service,
        "version": version,
        "provenance": {
            "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "slagate_version": __version__,
            "git_commit": _git_commit(),
            **provenance,
        },
        "metrics": metrics,
    }


def write_baseline(document: dict[str, Any], baselines_dir: Path, overwrite: bool = False) -> Path:
    """Write `baselines/<service>/<version>.json`; an existing version is never replaced silently."""
    version = document["version"]
    if not _VERSION_RE.match(version):
        raise BaselineError("--version", "version", "letters, digits, '.', '_' or '-' (e.g. 1.4.2)")
    path = baselines_dir / document["service"] / f"{version}.json"
    if path.exists() and not overwrite:
        raise BaselineError(path, "(file)", "a new version (this one exists; pass --force to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    return artifacts.write_json(path, document, indent=1)


def _git_commit() -> str | None:
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None
