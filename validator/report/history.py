"""`reports/history.jsonl`: one line per judged run (service, version, run id, date, verdict, each gate's figure
with its interval, the baseline's version), so releases can be compared over time.

Appending is one `write` of one line to a file opened with O_APPEND, under an exclusive `flock`, so two runs
finishing at once never interleave. Reading skips a line that is not an entry and says which line it was.
"""

import errno
import fcntl
import json
import math
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from validator.baseline.file import Baseline
from validator.judge.judgement import Judgement
from validator.redact import redact
from validator.spec import Spec

HISTORY_FILE = "history.jsonl"
REQUIRED = ("service", "version", "run_id", "date", "decision", "gates")


@dataclass(frozen=True)
class History:
    """The entries read (the last line of each run id wins: a re-judged run replaces its earlier line) and the
    lines skipped, by number, with why."""

    entries: list[dict[str, Any]]
    skipped: list[tuple[int, str]]


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def run_entry(
    run_dir: Path, spec: Spec, judgement: Judgement, baseline: Baseline | None, measured_at: float
) -> dict[str, Any]:
    """The history line of a judged run: `date` is when it was measured (its window's start), `judged_at` now."""
    gates = []
    for result in judgement.results:
        value = result.value
        change = result.change.interval if result.change is not None else None
        gates.append(
            {
                "name": result.gate.name,
                "metric": result.gate.metric.name,
                "severity": result.gate.severity,
                "status": result.status.value,
                "unit": result.gate.metric.unit,
                "estimate": _number(value.estimate) if value else None,
                "low": _number(value.low) if value else None,
                "high": _number(value.high) if value else None,
                "change": None if change is None else [_number(change.low), _number(change.high)],
            }
        )
    return {
        "service": spec.service,
        "version": spec.version,
        "run_id": run_dir.name,
        "date": datetime.fromtimestamp(measured_at, UTC).isoformat(timespec="seconds"),
        "judged_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "decision": judgement.verdict.decision.value,
        "baseline_version": baseline.version if baseline else None,
        "gates": gates,
    }


def append(reports_dir: Path, entry: dict[str, Any]) -> Path:
    """Append one entry as one line: a single write to an O_APPEND file under an exclusive lock.

    A symbolic link in the history's place is replaced by a file of its own, as every other artifact's is: a link
    pointing outside the reports folder never receives the line."""
    path = reports_dir / HISTORY_FILE
    line = (redact(json.dumps(entry, ensure_ascii=False, allow_nan=False)) + "\n").encode("utf-8")
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW
    try:
        descriptor = os.open(path, flags, 0o644)
    except OSError as error:
        if error.errno != errno.ELOOP:
            raise
        path.unlink()
        descriptor = os.open(path, flags, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        written = os.write(descriptor, line)
        if written != len(line):  # a full disk: never leave half a line for the next reader to trip on
            os.ftruncate(descriptor, os.fstat(descriptor).st_size - written)
            raise OSError(f"{path}: only {written} of {len(line)} bytes written")
    finally:
        os.close(descriptor)  # closing releases the lock
    return path


def read(path: Path, service: str | None = None) -> History:
    """Every entry of the file (of `service` only, when given), oldest first; corrupt lines skipped by number."""
    entries: dict[str, dict[str, Any]] = {}
    skipped: list[tuple[int, str]] = []
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        return History([], [])
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            skipped.append((number, f"not JSON ({error.__class__.__name__})"))
            continue
        missing = [key for key in REQUIRED if not isinstance(entry, dict) or key not in entry]
        if missing or not isinstance(entry.get("gates"), list):
            skipped.append((number, "not a history entry (missing " + ", ".join(missing or ["gates list"]) + ")"))
            continue
        if service is None or entry["service"] == service:
            entries.pop(str(entry["run_id"]), None)
            entries[str(entry["run_id"])] = entry
    return History(sorted(entries.values(), key=lambda e: (str(e["date"]), str(e.get("judged_at", "")))), skipped)
