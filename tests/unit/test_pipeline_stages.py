"""The judge stage over a run folder: one decision with every fact kept, and artifacts that match their schemas."""

import json
from pathlib import Path

from tests.conftest import demo_spec
from tests.unit.test_checks import ORIGIN, closed_load
from validator import artifacts, pipeline
from validator.judge.verdict import Decision
from validator.load.result import LOAD_FILE
from validator.measure.client_figures import CLIENT_PREFIX, client_measurements
from validator.measure.record import MetricsRecord
from validator.prometheus import Window


def judged_run(tmp_path: Path, client_figures: bool = True, **load_facts: object) -> tuple[pipeline.Outcome, dict]:
    """A run folder whose server figures are the demo baseline's own, judged against that baseline (with the
    client figures the gates ask for measured, or, without `client_figures`, left to the judge stage)."""
    spec, baseline = pipeline.load_inputs(demo_spec(tmp_path))
    assert baseline is not None
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    load = closed_load(**load_facts)
    load.write(run_dir)
    server = {key: m for key, m in baseline.measurements.items() if not key.startswith(CLIENT_PREFIX)}
    measured = {**server, **client_measurements(load, spec.gates)} if client_figures else server
    record = MetricsRecord("http://127.0.0.1:1", Window(ORIGIN + 2, ORIGIN + 9), measured)
    record.write(run_dir)
    outcome = pipeline.finish(run_dir, spec, baseline, caution_exit_code=3)
    return outcome, json.loads((run_dir / "verdict.json").read_text())


def test_a_measurement_warning_keeps_fail_level_multiplicity_and_shape(tmp_path: Path) -> None:
    lost = {"id": "w1", "index": 1, "requests_reported": 7, "last_report": None, "lost": True}
    outcome, verdict = judged_run(tmp_path, workers=[lost])
    assert outcome.verdict.decision is Decision.CAUTION and outcome.exit_code == 3
    assert any("load worker 1 (w1) was lost" in w for w in outcome.measurement_warnings)
    assert verdict["fail_level"] == 0.95
    assert verdict["multiplicity"].startswith("each bound is judged on its own one-sided 95 % bound")
    assert verdict["shape"] is not None and "candidate ÷ baseline p50 ×1.000" in verdict["shape"]["text"]
    assert "distribution shape" in (tmp_path / "run" / "report.md").read_text()


def test_every_artifact_of_a_judged_run_matches_its_schema(tmp_path: Path) -> None:
    _, verdict = judged_run(tmp_path)
    run_dir = tmp_path / "run"
    artifacts.validate(verdict, "verdict")
    assert verdict["verdict"].startswith(f"{verdict['decision']} — rollout ")  # `jq -r .verdict` prints one line
    artifacts.read_json(run_dir / "load.json", "load")
    artifacts.read_json(run_dir / "metrics.json", "metrics")
    assert not list(run_dir.glob(".*.tmp")), "a temporary file was left behind"


def test_a_client_figure_the_measurement_lacks_is_taken_from_the_runs_load_json(tmp_path: Path) -> None:
    outcome, verdict = judged_run(tmp_path, client_figures=False)  # as if the gate asked for it only after measuring
    assert outcome.verdict.decision is not Decision.NO_GO
    gate = next(g for g in verdict["gates"] if g["name"] == "success rate")  # source = "both" in the demo spec
    assert gate["status"] == gate["beside"]["status"] == "PASS" and gate["beside"]["judged_on"] == "client"
    assert LOAD_FILE in gate["beside"]["source"]
