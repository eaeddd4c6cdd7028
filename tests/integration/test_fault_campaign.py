"""The randomized fault campaign (benchmarks/fault_campaign.py --quick): every fault kind once, no violation.

One trial per fault kind, each a real `slagate run` against the demo target and a real Prometheus with faults
struck at drawn moments (about 3 minutes); any false GO, lost load.json, traceback, exit code outside the fault's
oracle, child left behind or secret in an artifact fails it, with the campaign's table and per-trial lines shown.
"""

import subprocess
import sys

import pytest

from tests.conftest import ROOT, needs_prometheus

pytestmark = [pytest.mark.integration, needs_prometheus]


def test_the_quick_fault_campaign_finds_no_violation(tmp_path) -> None:
    records = tmp_path / "trials.json"
    command = [sys.executable, str(ROOT / "benchmarks/fault_campaign.py"), "--quick", "--seed", "1", "--json",
               str(records)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=420, check=False, cwd=ROOT)
    shown = f"{completed.stdout}\n{completed.stderr}\nper-trial records: {records}"
    assert completed.returncode == 0, shown
    assert completed.stdout.splitlines()[-1] == "fault_campaign: 12 trials, 0 violations", shown
