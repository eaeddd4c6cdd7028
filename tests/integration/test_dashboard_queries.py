"""Every panel query of the generated dashboard, sent to a real Prometheus scraping the real demo target under
loopback traffic: each parses and returns finite data. The demo has no canary/stable label, so its route label
`path` stands in for one (two routes as "canary" and "stable") to exercise the canary vs stable row."""

import json
import math
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import demo_spec, needs_prometheus
from tests.integration.test_rules_firing import traffic
from tests.unit.test_dashboard import routed
from validator.cli import main
from validator.demo.stack import demo_stack
from validator.demo.target import DemoSettings

pytestmark = [pytest.mark.integration, needs_prometheus]

LIVE = '\n[rules]\nwindow = "30s"\ntrack_label = "path"\ncanary = "/api/items"\nstable = "/api/search"\n'


def test_every_panel_query_returns_data_from_a_real_prometheus(tmp_path: Path) -> None:
    out = tmp_path / "dashboard.json"
    spec = routed(demo_spec(tmp_path, extra=LIVE))
    result = CliRunner().invoke(main, ["dashboard", "--spec", str(spec), "-o", str(out)])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    queries = [(p["title"], t["expr"]) for p in document["panels"] if p["type"] != "row" for t in p["targets"]]
    assert len(queries) >= 15
    stop = threading.Event()
    with demo_stack(DemoSettings()) as stack:
        threads = list(traffic(stack.target.url, stop))
        try:
            time.sleep(8)  # a few scrapes of traffic inside the 30 s window
            answers = {(title, expr): stack.prometheus.query(expr) for title, expr in queries}
        finally:
            stop.set()
            for thread in threads:
                thread.join(10)
    for (title, expr), answer in answers.items():
        # the demo's `unmatched` route (unknown paths) is created up front and sees no traffic here: 0/0 is NaN
        values = [float(sample["value"][1]) for sample in answer if sample["metric"].get("path") != "unmatched"]
        assert values and all(math.isfinite(v) for v in values), (title, expr, answer)
    by_route = [a for (title, _), a in answers.items() if title.endswith("per route")]
    assert any(len(answer) >= 2 for answer in by_route)  # one series per route
    tracks = [a for (title, _), a in answers.items() if "/api/items vs /api/search" in title]
    assert tracks and all({s["metric"]["path"] for s in a} <= {"/api/items", "/api/search"} for a in tracks)
