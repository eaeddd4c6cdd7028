"""reports/history.jsonl: one line per judged run, safe under concurrent appends, corrupt lines skipped by number."""

import json
import multiprocessing
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from validator.cli import main
from validator.evidence import Change
from validator.judge.changes import ChangePoint, Level, RunFigure
from validator.judge.observations import Observation
from validator.report import history
from validator.report.analysis import observation_sentence
from validator.report.history_view import history_table
from validator.stats.intervals import Interval, Method, MethodKind


def entry(run: str, version: str = "1.0.0", decision: str = "GO", p99: float = 0.07) -> dict:
    gates = [
        {
            "name": "p99 latency",
            "metric": "latency_p99",
            "severity": "critical",
            "status": "PASS",
            "unit": "s",
            "estimate": p99,
            "low": p99 * 0.95,
            "high": p99 * 1.05,
            "change": None,
        },
        {
            "name": "success rate",
            "metric": "success_rate",
            "severity": "critical",
            "status": "PASS",
            "unit": "ratio",
            "estimate": 0.999,
            "low": 0.998,
            "high": 1.0,
            "change": None,
        },
    ]
    return {
        "service": "demo",
        "version": version,
        "run_id": run,
        "date": f"2026-12-02T20:{run[-2:]}:00+00:00",
        "decision": decision,
        "baseline_version": "1.0.0",
        "gates": gates,
    }


def _append_many(folder: str, worker: int) -> None:
    for i in range(50):
        history.append(Path(folder), entry(f"w{worker}-{i:02d}", p99=0.05 + i / 1000))


def test_concurrent_appends_never_interleave(tmp_path: Path) -> None:
    processes = [multiprocessing.Process(target=_append_many, args=(str(tmp_path), w)) for w in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(30)
    lines = (tmp_path / history.HISTORY_FILE).read_text().splitlines()
    assert len(lines) == 200
    assert all(json.loads(line)["service"] == "demo" for line in lines)
    assert len(history.read(tmp_path / history.HISTORY_FILE).entries) == 200


def test_a_corrupt_line_is_skipped_with_its_number_and_a_rejudged_run_keeps_its_last_line(tmp_path: Path) -> None:
    history.append(tmp_path, entry("r01", "1.0.0", "CAUTION"))
    with (tmp_path / history.HISTORY_FILE).open("a") as handle:
        handle.write('{"service": "demo", "version": "1.1.0", "run_id": "r0\n')  # cut short
        handle.write('["not", "an", "entry"]\n')
    history.append(tmp_path, entry("r02", "1.1.0"))
    history.append(tmp_path, entry("r01", "1.0.0", "GO"))
    read = history.read(tmp_path / history.HISTORY_FILE)
    assert [number for number, _ in read.skipped] == [2, 3]
    assert [(e["run_id"], e["decision"]) for e in read.entries] == [("r01", "GO"), ("r02", "GO")]
    result = CliRunner().invoke(main, ["history", "--reports-dir", str(tmp_path), "--service", "demo"])
    assert result.exit_code == 0, result.output
    assert f"{tmp_path / history.HISTORY_FILE}: line 2: not JSON" in result.output
    assert "line 3: not a history entry" in result.output and "Traceback" not in result.output
    assert (tmp_path / "history-demo.png").stat().st_size > 10_000


def test_table_shows_each_figure_with_its_interval() -> None:
    table = history_table([entry("r01", "1.0.0"), entry("r02", "1.1.0", "NO-GO", p99=0.14)])
    lines = table.splitlines()
    assert lines[0].startswith("date (UTC)") and len(lines) == 4
    assert "140 ms [133 ms, 147 ms]" in lines[3] and "NO-GO" in lines[3]


def test_no_history_is_one_line_and_exit_0(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["history", "--reports-dir", str(tmp_path)])
    assert result.exit_code == 0 and "no run recorded yet" in result.output


def noisy(levels: list[float], seed: int = 3) -> list[dict]:
    """History entries whose p99 follows `levels` with 1 % run-to-run noise (versions 1.<i>.0)."""
    rng = np.random.default_rng(seed)
    return [entry(f"r{i:02d}", f"1.{i}.0", p99=level * float(np.exp(rng.normal(0, 0.01))))
            for i, level in enumerate(levels)]


def test_a_step_in_the_history_is_a_change_point_at_its_run_and_exit_3_when_recent(tmp_path: Path) -> None:
    for item in noisy([0.07] * 10 + [0.084] * 2):  # +20 % from version 1.10.0 on
        history.append(tmp_path, item)
    result = CliRunner().invoke(main, ["history", "--reports-dir", str(tmp_path), "--changes"])
    assert result.exit_code == 3, result.output
    row = next(line for line in result.output.splitlines() if line.startswith("demo") and "p99 latency" in line)
    assert "r10" in row and "1.10.0" in row and "+" in row
    assert (tmp_path / "history.png").exists()
    older = CliRunner().invoke(main, ["history", "--reports-dir", str(tmp_path), "--changes", "--last", "1"])
    assert older.exit_code == 0, older.output  # the new level started two runs ago: not in the last one


def test_a_stable_history_has_no_change_point(tmp_path: Path) -> None:
    for item in noisy([0.07] * 15):
        history.append(tmp_path, item)
    result = CliRunner().invoke(main, ["history", "--reports-dir", str(tmp_path), "--changes"])
    assert result.exit_code == 0 and "no change point" in result.output, result.output
    since = CliRunner().invoke(main, ["history", "--reports-dir", str(tmp_path), "--changes", "--since", "9.9.9"])
    assert since.exit_code == 2 and "--since" in since.output


def test_a_run_that_starts_a_new_level_says_so_in_its_report(tmp_path: Path) -> None:
    from tests.conftest import write_spec
    from tests.unit.test_cli import recorded_run

    run_dir = recorded_run(tmp_path)
    spec = write_spec(tmp_path)
    for index in range(8):  # the service's history: p99 at 5 ms, well below this run's
        old = entry(f"20231231T0000{index:02d}Z-svc", f"1.{index}.0", p99=0.005 * (1 + 0.01 * (index % 3)))
        old["service"], old["gates"][0]["name"] = "svc", "latency_p99"
        history.append(run_dir.parent, old)
    result = CliRunner().invoke(main, ["report", str(run_dir), "--spec", str(spec)])
    assert result.exit_code == 0, result.output
    report = (run_dir / "report.md").read_text()
    sentence = next(line for line in report.splitlines() if "A new level in the history" in line)
    assert "this is the first run in a row of latency_p99 above its level over versions 1.0.0–1.7.0" in sentence
    assert "5.04 ms → 32.5 ms" in sentence  # no baseline here: the level's move alone


def test_the_new_level_sentence_says_the_run_is_unchanged_against_its_baseline_yet_above_the_old_level() -> None:
    point = ChangePoint(6, RunFigure("r6", "1.6.0", 0.109, 0.105, 0.113), Level(0.1, 0.098, 0.102, 6),
                        Level(0.109, 0.106, 0.112, 3), True, 1.09, 1.06, 1.12, 1e-4)
    figures = {"gate": "p99 latency", "unit": "s", "point": point, "in_a_row": 3, "versions": "1.1.0–1.3.0",
               "baseline": "1.4.0"}
    unchanged = Change("ratio", Interval(1.01, 0.97, 1.05, 0.9, Method(MethodKind.EXACT)))
    sentence = observation_sentence(Observation("new_level", {**figures, "against_baseline": unchanged}, "h"))
    assert sentence.startswith("A new level in the history: the run is unchanged against baseline 1.4.0 (×1.010 "
                               "[0.970, 1.050]), but this is the third run in a row of p99 latency above its level "
                               "over versions 1.1.0–1.3.0 (100 ms → 109 ms): +9.0 % [+6.0 %, +12.0 %]"), sentence
    worse = Change("ratio", Interval(1.2, 1.1, 1.3, 0.9, Method(MethodKind.EXACT)))
    sentence = observation_sentence(Observation("new_level", {**figures, "against_baseline": worse}, "h"))
    assert "the run is ×1.200 [1.100, 1.300] against baseline 1.4.0, and this is the third run" in sentence
