"""`slagate baseline` on real parts: calibrate runs the real demo load (two 8 s runs, 2 s warm-up, 127.0.0.1),
then record, promote, list, show, diff, validate and `report --baseline` work on what it measured."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import demo_spec, needs_prometheus

pytestmark = [pytest.mark.integration, needs_prometheus]


def slagate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "validator.cli", *args], capture_output=True, text=True, timeout=300, check=False
    )


def test_calibrate_then_every_baseline_command(tmp_path: Path) -> None:
    spec = str(demo_spec(tmp_path, duration="8s"))
    folders = ["--baselines-dir", str(tmp_path / "baselines")]
    reports = tmp_path / "reports"

    calibrated = slagate("baseline", "calibrate", "--spec", spec, "--runs", "2", "--version", "9.0.0", "--demo",
                         "--reports-dir", str(reports), *folders)  # fmt: skip
    assert calibrated.returncode == 0, calibrated.stderr
    assert "| p99 latency | 2 baseline, 1 candidate |" in calibrated.stdout
    assert "Smallest max_regression (PASS 95 %)" in calibrated.stdout
    (run_dir,) = [path for path in reports.iterdir() if path.is_dir()]
    document = json.loads((tmp_path / "baselines/demo/9.0.0.json").read_text())
    assert document["metrics"]["latency_p99"]["runs"] == 2 and document["metrics"]["latency_p99"]["run_noise"]
    assert document["provenance"]["target"]["host_class"] == "loopback"
    assert document["load_profile"]["duration_s"] == 8.0

    refused = slagate("baseline", "promote", str(run_dir), "--version", "9.0.1", "--spec", spec, *folders)
    assert refused.returncode == 2 and "NO-GO" in refused.stderr  # no baseline to compare with: fail closed

    recorded = slagate("baseline", "record", str(run_dir / "run-1"), "--version", "9.0.0-rc1", "--spec", spec, *folders)
    assert recorded.returncode == 0, recorded.stderr

    listed = slagate("baseline", "list", "demo", "--spec", spec, *folders)
    assert listed.returncode == 0, listed.stderr
    rows = [line for line in listed.stdout.splitlines() if line.startswith("| 9.")]
    assert [row.split("|")[1].strip() for row in rows] == ["9.0.0-rc1", "9.0.0"]

    shown = slagate("baseline", "show", "demo@9.0.0", "--spec", spec, *folders)
    assert shown.returncode == 0 and "| latency_p99 |" in shown.stdout and "locustfile locustfile.py" in shown.stdout

    compared = slagate("baseline", "diff", "demo@9.0.0-rc1", "demo@9.0.0", "--spec", spec, *folders)
    assert compared.returncode == 0, compared.stderr
    assert "| p99 latency | critical |" in compared.stdout and "vs baseline" in compared.stdout

    valid = slagate("baseline", "validate", str(tmp_path / "baselines"))
    assert valid.returncode == 0 and valid.stdout.count("slagate: ok:") == 2
    broken = tmp_path / "broken.json"
    document["metrics"]["latency_p99"]["estimate"] = 1.0
    broken.write_text(json.dumps(document))
    invalid = slagate("baseline", "validate", str(broken))
    assert invalid.returncode == 2 and "metrics.latency_p99.estimate" in invalid.stderr

    chosen = str(tmp_path / "baselines/demo/9.0.0.json")
    rejudged = slagate("report", str(run_dir), "--spec", spec, "--baseline", chosen)
    assert rejudged.returncode in (0, 3), rejudged.stderr
    report = (run_dir / "report.md").read_text()
    assert "version 9.0.0" in report and "| Baseline load | same" in report and "Baseline noise floor" in report
