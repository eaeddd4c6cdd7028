"""`slagate dashboard`: one panel per gate metric with the bounds as thresholds and the baseline as reference
lines, rows per route and canary vs stable when configured, and PromQL that promtool parses."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tests.conftest import demo_spec, pin_reference
from validator.canary.dashboard import dashboard_json
from validator.cli import main
from validator.spec import load_spec

LABELS = '\n[rules]\ntrack_label = "track"\n'


def routed(spec: Path) -> Path:
    """The spec with the demo's route label (`path`) named in [prometheus]."""
    text = spec.read_text()
    spec.write_text(text.replace('error_label = "code"', 'error_label = "code"\nroute_label = "path"', 1))
    return spec


def dashboard(tmp_path: Path, extra: str = "") -> dict:
    out = tmp_path / "dashboard.json"
    spec = routed(demo_spec(tmp_path, extra=extra)) if extra else demo_spec(tmp_path)
    result = CliRunner().invoke(main, ["dashboard", "--spec", str(spec), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text())


def panels(document: dict) -> list[dict]:
    return [p for p in document["panels"] if p["type"] != "row"]


def test_one_panel_per_gate_metric_with_bounds_and_baseline(tmp_path: Path) -> None:
    document = dashboard(tmp_path)
    assert document["uid"] == "slagate-demo" and document["templating"]["list"][0]["query"] == "prometheus"
    shown = {p["title"]: p for p in panels(document)}
    assert list(shown) == ["p99 latency", "p95 latency", "median latency", "success rate", "throughput"]
    p99 = shown["p99 latency"]
    assert p99["fieldConfig"]["defaults"]["unit"] == "s"
    steps = p99["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert steps[0] == {"value": None, "color": "green"}
    assert {"value": 0.25, "color": "red"} in steps and any(s["color"] == "orange" for s in steps)
    legends = [t["legendFormat"] for t in p99["targets"]]
    assert legends[1] == "baseline 1.0.0" and p99["targets"][1]["expr"].startswith("vector(0.0")
    success = shown["success rate"]["fieldConfig"]["defaults"]
    assert success["unit"] == "percentunit" and success["thresholds"]["steps"][0]["color"] == "red"
    assert all(t["datasource"]["uid"] == "${datasource}" for p in panels(document) for t in [p])


def test_route_and_track_rows_when_labels_are_configured(tmp_path: Path) -> None:
    document = dashboard(tmp_path, LABELS)
    rows = [p["title"] for p in document["panels"] if p["type"] == "row"]
    assert rows == ["Gates", "Per route", "canary vs stable"]
    exprs = [t["expr"] for p in panels(document) for t in p["targets"]]
    assert any("sum by (le, path)" in e for e in exprs)
    assert any('track=~"canary|stable"' in e and "sum by (le, track)" in e for e in exprs)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="no promtool")
def test_every_panel_query_parses(tmp_path: Path) -> None:
    exprs = [t["expr"] for p in panels(dashboard(tmp_path, LABELS)) for t in p["targets"]]
    rules = {"groups": [{"name": "panels", "rules": [{"record": f"panel:q{i}", "expr": e} for i, e in
                                                     enumerate(exprs)]}]}  # fmt: skip
    path = tmp_path / "panels.yml"
    path.write_text(yaml.safe_dump(rules))
    checked = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_track_value_cannot_add_a_matcher(tmp_path: Path) -> None:
    extra = '\n[rules]\ntrack_label = "track"\ncanary = \'canary",path="/api/orders\'\nstable = "stable"\n'
    spec = load_spec(demo_spec(tmp_path, extra=extra))
    document = json.loads(dashboard_json(spec, None))
    exprs = [t["expr"] for p in document["panels"] if p["type"] != "row" for t in p["targets"] if "track" in t["expr"]]
    assert exprs and all('track=~"canary\\",path=\\"/api/orders|stable"' in e for e in exprs), exprs[:1]


def test_a_drift_bound_draws_the_pinned_reference_and_its_limit(tmp_path: Path) -> None:
    out = tmp_path / "dashboard.json"
    spec = pin_reference(demo_spec(tmp_path), "1.1.0")
    result = CliRunner().invoke(main, ["dashboard", "--spec", str(spec), "-o", str(out)])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    p99 = next(p for p in panels(document) if p["title"] == "p99 latency")
    legends = [t["legendFormat"] for t in p99["targets"]]
    assert legends[1:] == ["baseline 1.1.0", "reference 1.0.0", "limit: baseline +15 %", "limit: reference +25 %"]
    p95 = next(p for p in panels(document) if p["title"] == "p95 latency")
    assert not any("reference" in t["legendFormat"] for t in p95["targets"])  # no max_drift on p95
    assert "pinned reference 1.0.0" in document["description"]
