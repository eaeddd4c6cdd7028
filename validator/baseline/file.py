"""The versioned baseline file: `baselines/<service>/<version>.json`, reviewed in git like code.

The file opens with what a reviewer reads (service, version, provenance, load profile, and per metric the
estimate and interval with its coverage, method, runs and run-to-run noise) and follows with the counts the
statistics recompute intervals from, one line per window (`validator.baseline.codec`). Recorded from k ≥ 2
runs of the same build, it carries each metric's run-to-run noise. Reading checks the JSON Schema, migrates
older schema versions (`validator.baseline.migrate`) and checks the file's internal consistency.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from validator import __version__, artifacts, compact
from validator.baseline.check import consistency_problem, structure_problem
from validator.baseline.codec import decode_measurements, encode_evidence, summary_entry
from validator.baseline.migrate import upgrade
from validator.errors import BaselineError, FieldError
from validator.evidence import Evidence, Measurement, RunNoise
from validator.spec.reader import PATH_NAME
from validator.stats.intervals import interval_level
from validator.stats.runs import run_noise_sd

SCHEMA_VERSION = artifacts.SCHEMA_VERSIONS["baseline"]
ROW_KEYS = ("windows",)  # each window's count row on a line of its own


@dataclass(frozen=True)
class Baseline:
    """A loaded baseline: its identity, one measurement per metric, provenance and load profile."""

    path: Path
    service: str
    version: str
    measurements: dict[str, Measurement]
    provenance: dict[str, Any]
    load_profile: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None  # the file's per-metric summary, as written

    @property
    def label(self) -> str:
        """How the report names it: service, version and file."""
        return f"baseline {self.identity}"

    @property
    def identity(self) -> str:
        """Service, version and file: `demo 1.0.0 (baselines/demo/1.0.0.json)`."""
        return f"{self.service} {self.version} ({self.path})"


def read_document(path: Path) -> dict[str, Any]:
    """A baseline file as a schema-3 document: parsed, migrated from an older schema, schema-checked."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        expected = "an existing baseline file (record one with `slagate baseline record`)"
        raise BaselineError(path, "(file)", expected) from None
    except IsADirectoryError:
        raise BaselineError(path, "(file)", "a baseline file, not a folder") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BaselineError(path, "(syntax)", f"valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise BaselineError(path, "(root)", "a JSON object")
    document = upgrade(document, path)
    artifacts.validate(document, "baseline", path)
    return document


def load_baseline(path: Path) -> Baseline:
    """Read, migrate, schema-check and consistency-check a baseline file."""
    document = read_document(path)
    problem = structure_problem(document)
    if problem is not None:
        raise BaselineError(path, *problem)
    try:
        measurements = decode_measurements(document)
    except FieldError as error:
        raise BaselineError(path, error.key, error.expected) from None
    except (KeyError, TypeError, ValueError) as error:
        raise BaselineError(path, "histograms", f"count rows within the bucket bounds ({error})") from None
    problem = consistency_problem(document, measurements)
    if problem is not None:
        raise BaselineError(path, *problem)
    return Baseline(
        path,
        document["service"],
        document["version"],
        measurements,
        document["provenance"],
        document.get("load_profile"),
        document["metrics"],
    )


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
    service: str,
    version: str,
    measurements: dict[str, Measurement],
    level: float,
    provenance: dict[str, Any],
    load_profile: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The schema-3 document of a baseline recorded from (pooled) measurements. Each summary interval is the one
    the report shows for bounds at the one-sided `level` (coverage 2·level − 1); gates recompute from evidence."""
    coverage = interval_level(level)
    evidence, histograms = encode_evidence(measurements)
    return {
        "schema_version": SCHEMA_VERSION,
        "service": service,
        "version": version,
        "provenance": {
            "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "slagate_version": __version__,
            **dict.fromkeys(("git_commit", "spec_file", "prometheus_url", "target")),
            "run_ids": [],
            **provenance,
        },
        "load_profile": load_profile,
        "metrics": {name: summary_entry(m, coverage) for name, m in sorted(measurements.items())},
        "evidence": evidence,
        "histograms": histograms,
    }


def check_version(version: str) -> None:
    """Refuse a version that cannot name a file (letters, digits, '.', '_', '+', '-')."""
    if not PATH_NAME.match(version):
        raise BaselineError("--version", "version", "letters, digits, '.', '_', '+' or '-' (e.g. 1.4.2)", version)


def write_baseline(document: dict[str, Any], baselines_dir: Path, overwrite: bool = False) -> Path:
    """Write `baselines/<service>/<version>.json` (atomically); an existing version is never replaced silently."""
    check_version(document["version"])
    artifacts.validate(document, "baseline", "(new baseline)")
    path = baselines_dir / document["service"] / f"{document['version']}.json"
    if path.exists() and not overwrite:
        raise BaselineError(path, "(file)", "a new version (this one exists; pass --force to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    return artifacts.write_text(path, compact.dumps(document, ROW_KEYS))
