"""GitHub Actions hand-off: GITHUB_OUTPUT gets verdict/exit_code/rollout/report, GITHUB_STEP_SUMMARY the verdict
and gates table, only when set; `--format json` puts the verdict document alone on stdout."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import demo_spec
from tests.unit.test_pipeline_stages import judged_run
from validator.cli import main
from validator.report import ci_outputs


def test_a_judged_run_appends_step_outputs_and_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outputs, summary = tmp_path / "github_output", tmp_path / "step_summary"
    outputs.write_text("earlier=kept\n")
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    outcome, verdict = judged_run(tmp_path)
    lines = outputs.read_text().splitlines()
    assert lines[0] == "earlier=kept"  # appended, never replaced
    pairs = dict(line.split("=", 1) for line in lines[1:])
    assert pairs == {
        "verdict": verdict["decision"],
        "exit_code": str(outcome.exit_code),
        "rollout": verdict["rollout"]["strategy"],
        "report": str(outcome.report),
    }
    text = summary.read_text()
    assert f"## slagate: **{verdict['decision']}**" in text
    assert "| Gate | Severity | Measured | Bound | Status |" in text
    for gate in verdict["gates"]:
        assert f"| {gate['name']} | {gate['severity']} |" in text and f"**{gate['status']}**" in text
    assert str(outcome.report) in text


def test_nothing_is_written_outside_github_actions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "judged").mkdir()
    _, verdict = judged_run(tmp_path / "judged")
    empty = tmp_path / "cwd"
    empty.mkdir()
    monkeypatch.chdir(empty)
    ci_outputs.publish(verdict, Path("report.md"), {"GITHUB_OUTPUT": "", "HOME": str(empty)})
    assert not list(empty.iterdir())
    assert (tmp_path / "judged" / "run" / "junit.xml").is_file()


def test_report_format_json_prints_only_the_verdict_document_on_stdout(tmp_path: Path) -> None:
    judged_run(tmp_path)
    spec, run_dir = demo_spec(tmp_path), tmp_path / "run"
    result = CliRunner().invoke(main, ["report", str(run_dir), "--spec", str(spec), "--format", "json"])
    document = json.loads(result.stdout)
    assert document == json.loads((run_dir / "verdict.json").read_text())
    assert result.exit_code == document["exit_code"]
    assert f"slagate: verdict {document['decision']}" in result.stderr and "slagate: report" in result.stderr
    text = CliRunner().invoke(main, ["report", str(run_dir), "--spec", str(spec)])
    assert text.stdout.startswith(f"slagate: verdict {document['decision']}")


def test_rollback_criteria_are_values_with_a_sentence_and_promql(tmp_path: Path) -> None:
    outcome, verdict = judged_run(tmp_path)
    p99 = next(c for c in verdict["rollback_criteria"] if c["gate"] == "p99 latency" and c["bound"] == "max")
    assert p99["limit"] == 0.25 and p99["breach"] == "above" and p99["window"] == "5m"
    assert p99["promql"] == (
        '(histogram_quantile(0.99, sum by (le) (rate(slagate_demo_request_duration_seconds_bucket{job="demo"}[5m]))))'
        " > 0.25"
    )
    relative = next(c for c in verdict["rollback_criteria"] if c["bound"] == "max_regression")
    assert relative["baseline"]["version"] == "1.0.0"
    assert relative["limit"] == pytest.approx(relative["baseline"]["estimate"] * 1.15)
    assert {c["severity"] for c in verdict["rollback_criteria"]} == {"critical"}
    report = outcome.report.read_text()
    assert f"- {p99['text']}: `{p99['promql']}`" in report


def test_a_path_with_a_line_break_cannot_forge_an_output(tmp_path: Path) -> None:
    outputs = tmp_path / "github_output"
    _, verdict = judged_run(tmp_path)
    forged = {**verdict, "decision": "NO-GO", "exit_code": 4}
    ci_outputs.publish(forged, Path("rr\nverdict=GO\nexit_code=0\nx/report.md"), {"GITHUB_OUTPUT": str(outputs)})
    rollout = verdict["rollout"]["strategy"]
    assert outputs.read_text().splitlines() == ["verdict=NO-GO", "exit_code=4", f"rollout={rollout}"]


@pytest.mark.parametrize("command", [["run", "--reports-dir"], ["report"]])
def test_a_run_path_with_a_line_break_is_refused_in_one_line(tmp_path: Path, command: list[str]) -> None:
    forged = tmp_path / "rr\nverdict=GO"
    forged.mkdir()
    result = CliRunner().invoke(main, [*command, str(forged), "--spec", str(demo_spec(tmp_path))])
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith("slagate: error: ") and "expected a path without control characters" in line
