"""Older baseline files read as today's: schema 1 and 2 documents migrated on read to schema 3.

Schema 1 held per metric the evidence (pooled bucket counts, no windows), an estimate and an interval
labelled `confidence`; schema 2 added each run's per-window counts and the run-to-run noise, with the
interval labelled `coverage`. Both kept every count in `metrics.<name>.evidence` and the load profile in
the provenance. Migration keeps every count and the provenance, moves the profile out, and recomputes each
metric's summary from its evidence at the coverage the file stated.
"""

from pathlib import Path
from typing import Any

from validator import artifacts
from validator.baseline.codec import encode_evidence, summary_entry
from validator.baseline.provenance import portable_profile, portable_url
from validator.errors import InputFileError
from validator.evidence import Measurement

DEFAULT_COVERAGE = 0.9


def upgrade(document: dict[str, Any], path: Path | str) -> dict[str, Any]:
    """A schema-1 or schema-2 baseline as a schema-3 document (anything else is returned as is); InputFileError
    (one line) when an old file's content cannot be migrated."""
    version = document.get("schema_version")
    if version not in (1, 2):
        return document
    try:
        return _migrated(document, path, version)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, ArithmeticError) as error:
        expected = f"a schema-{version} baseline that can be migrated ({type(error).__name__}: {error})"
        raise InputFileError(path, "(file)", expected.replace("\n", " ")) from None


def _migrated(document: dict[str, Any], path: Path | str, version: int) -> dict[str, Any]:
    metrics = document.get("metrics")
    if not isinstance(metrics, dict) or not metrics:
        raise InputFileError(path, "metrics", "an object with one entry per metric")
    for key in ("service", "version"):
        if not isinstance(document.get(key), str):
            raise InputFileError(path, key, "a string")
    measurements: dict[str, Measurement] = {}
    coverage = DEFAULT_COVERAGE
    for name, entry in metrics.items():
        try:
            measurements[name] = Measurement.from_dict({"metric": name, **entry})
        except (KeyError, TypeError, ValueError) as error:
            raise InputFileError(path, f"metrics.{name}", f"a measurement with valid evidence ({error})") from None
        interval = entry.get("interval") or {}
        coverage = float(interval.get("coverage", interval.get("confidence", coverage)))
    old = dict(document.get("provenance") or {})
    profile = old.pop("load_profile", None)
    run_ids = old.pop("run_ids", None) or ([old["run_id"]] if old.get("run_id") else [])
    old.pop("run_id", None)
    provenance = {
        "recorded_at": old.pop("recorded_at", "unknown"),
        "slagate_version": old.pop("slagate_version", "unknown"),
        "git_commit": old.pop("git_commit", None),
        "spec_file": old.pop("spec_file", None),
        "run_ids": run_ids,
        "prometheus_url": portable_url(old.pop("prometheus_url", None)),
        "target": None,
        "recorded_on": None,
        "window": old.pop("window", None),
        "migrated_from": version,
        **old,
    }
    if isinstance(profile, dict):
        provenance["target"] = {"url": portable_url(profile.get("target")), "host_class": None}
    evidence, histograms = encode_evidence(measurements)
    return {
        "schema_version": artifacts.SCHEMA_VERSIONS["baseline"],
        "service": document["service"],
        "version": document["version"],
        "provenance": provenance,
        "load_profile": portable_profile(profile, Path(path).parent, False) if isinstance(profile, dict) else None,
        "metrics": {name: summary_entry(m, coverage) for name, m in sorted(measurements.items())},
        "evidence": evidence,
        "histograms": histograms,
    }
