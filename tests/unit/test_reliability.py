"""Data safety without a network: distinct run folders under concurrency, INCOMPLETE never turns into GO."""

import dataclasses
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.unit.test_pipeline_stages import judged_run
from validator import artifacts, pipeline
from validator.judge.verdict import Decision, ExitCode
from validator.measure.record import MetricsRecord


def test_runs_started_at_once_get_distinct_folders(tmp_path: Path) -> None:
    made: list[Path] = []
    threads = [threading.Thread(target=lambda: made.append(pipeline.new_run_dir(tmp_path, "svc"))) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(made)) == 16 and all(path.is_dir() for path in made)


def test_an_incomplete_run_stays_incomplete_when_judged_again(tmp_path: Path) -> None:
    outcome, _ = judged_run(tmp_path)
    assert outcome.verdict.incomplete is None and outcome.verdict.decision is Decision.CAUTION
    run_dir = tmp_path / "run"
    stopped = "stopped by SIGINT during the load after 6.2 s of 10 s"
    record = dataclasses.replace(MetricsRecord.read(run_dir), incomplete=stopped)
    record.write(run_dir)
    spec, baseline = pipeline.load_inputs(tmp_path / "sla.toml")
    again = pipeline.finish(run_dir, spec, baseline, caution_exit_code=0)
    assert again.verdict.decision is Decision.NO_GO and again.exit_code == ExitCode.INCOMPLETE
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert verdict["incomplete"] == record.incomplete and verdict["reasons"][0].startswith("incomplete: stopped")
    assert "**INCOMPLETE — NO-GO**" in (run_dir / "report.md").read_text()



def test_a_report_that_cannot_be_written_leaves_no_file_saying_go(tmp_path: Path, monkeypatch, capsys) -> None:
    """A full disk while the verdict is being written is exit 4: verdict.json, junit.xml and report.md are all
    withdrawn (none may say GO), the history is not told, and the measurement stays to be judged again."""
    judged_run(tmp_path)
    run_dir = tmp_path / "run"
    spec, baseline = pipeline.load_inputs(tmp_path / "sla.toml")
    history = run_dir.parent / "history.jsonl"
    recorded = history.read_text()
    from validator.report import render

    real_write_text = render.write_text

    def full_disk_at_the_report(path: Path, text: str) -> Path:
        if path.name == "report.md":
            raise artifacts.WriteFailed(path, OSError(28, "No space left on device"))
        return real_write_text(path, text)

    monkeypatch.setattr(render, "write_text", full_disk_at_the_report)
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "github_output"))
    with pytest.raises(artifacts.WriteFailed) as failed:
        pipeline.finish(run_dir, spec, baseline, caution_exit_code=3)
    assert "report.md: No space left on device" in failed.value.strerror
    assert f"`slagate report {run_dir}` judges it again" in failed.value.strerror
    assert not any((run_dir / name).exists() for name in ("verdict.json", "junit.xml", "report.md"))
    assert (run_dir / "load.json").is_file() and (run_dir / "metrics.json").is_file()
    assert history.read_text() == recorded and not (tmp_path / "github_output").exists()
    monkeypatch.undo()
    again = pipeline.finish(run_dir, spec, baseline, caution_exit_code=3)
    assert again.verdict.decision is Decision.CAUTION and (run_dir / "verdict.json").is_file()


WRITE_UNDER_LIMIT = """
import resource, signal, sys
from pathlib import Path
from validator import artifacts
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
path = Path(sys.argv[1])
artifacts.write_json(path, {"kept": True})
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
try:
    artifacts.write_json(path, {"big": "x" * 100_000})
except artifacts.WriteFailed as error:
    print(error.strerror)
"""


def test_a_write_beyond_a_full_disk_names_the_file_and_keeps_the_previous_one(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    completed = subprocess.run(
        [sys.executable, "-c", WRITE_UNDER_LIMIT, str(path)], capture_output=True, text=True, check=True, timeout=60
    )
    assert completed.stdout.strip() == f"cannot write {path}: File too large"
    assert json.loads(path.read_text()) == {"kept": True}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]
