"""The whole pipeline on real parts: demo target + real Prometheus + real Locust load + `slagate run`.

One demo stack serves the module; each test sets the target's behaviour, runs the real command line
against it over loopback (loads of 12 s), and checks the verdict, the exit code and the artifacts.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, demo_spec, pin_reference
from validator import artifacts
from validator.demo.stack import demo_stack
from validator.demo.target import DemoSettings
from validator.net import free_port
from validator.stats.quantiles import histogram_quantile

pytestmark = pytest.mark.integration

DEFAULTS = DemoSettings()


@pytest.fixture(scope="module")
def stack():
    with demo_stack(DEFAULTS) as running:
        yield running


@pytest.fixture()
def target(stack):
    """The demo target reset to its defaults after each test."""
    yield stack.target
    stack.target.configure(**{name: getattr(DEFAULTS, name) for name in ("latency_multiplier", "error_rate")})


def short_spec(tmp_path: Path, extra_gates: str = "") -> Path:
    """The shipped demo spec with a 12 s load (2 s warm-up), absolute paths, plus extra gates."""
    return demo_spec(tmp_path, extra=extra_gates, duration="12s")


def slagate_run(tmp_path: Path, spec: Path, target_url: str, prometheus_url: str) -> tuple[int, str, str, Path]:
    env = {**os.environ, "ENDPOINT": target_url, "PROMETHEUS_URL": prometheus_url}
    reports = tmp_path / "reports"
    completed = subprocess.run(
        [sys.executable, "-m", "validator.cli", "run", "--spec", str(spec), "--reports-dir", str(reports)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    run_dirs = sorted(p for p in reports.iterdir() if p.is_dir()) if reports.exists() else []
    assert len(run_dirs) == 1, completed.stderr
    return completed.returncode, completed.stdout, completed.stderr, run_dirs[0]


def verdict_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "verdict.json").read_text())


def gate_status(verdict: dict, name: str) -> str:
    return next(g["status"] for g in verdict["gates"] if g["name"] == name)


def test_same_settings_as_baseline_is_go(tmp_path, stack, target) -> None:
    code, stdout, stderr, run_dir = slagate_run(tmp_path, short_spec(tmp_path), target.url, stack.prometheus.url)
    verdict = verdict_of(run_dir)
    assert verdict["decision"] == "GO", (stderr, verdict["reasons"], [g["reason"] for g in verdict["gates"]])
    assert code == 0
    assert "verdict GO" in stdout and str(run_dir / "report.md") in stdout
    report = (run_dir / "report.md").read_text()
    assert "## Verdict: **GO**" in report and "5 % → 25 % → 50 % → 100 %" in report
    assert "- [x] p99 latency PASS" in report and "- [x] success rate PASS" in report  # the checklist's critical gates
    assert (run_dir / "checklist.md").is_file() and (run_dir / "chart-latency.png").is_file()
    assert (run_dir / "report.md").is_file()
    for kind in ("load", "metrics", "verdict"):  # every JSON artifact matches its shipped schema
        artifacts.read_json(run_dir / f"{kind}.json", kind)
    artifacts.read_json(ROOT / "baselines/demo/1.0.0.json", "baseline")


def test_p99_doubled_is_no_go_naming_the_p99_gate(tmp_path, stack, target) -> None:
    target.configure(latency_multiplier=2.0)
    spec = pin_reference(short_spec(tmp_path), "1.1.0")  # per release against 1.1.0, the drift since 1.0.0
    code, stdout, _, run_dir = slagate_run(tmp_path, spec, target.url, stack.prometheus.url)
    verdict = verdict_of(run_dir)
    assert code == 1 and verdict["decision"] == "NO-GO"
    assert gate_status(verdict, "p99 latency") == "FAIL"
    assert any("p99 latency" in reason for reason in verdict["reasons"])
    p99 = next(g for g in verdict["gates"] if g["name"] == "p99 latency")
    assert p99["change"]["low"] > 1.15  # the whole ratio interval is beyond the tolerance
    assert p99["drift"]["low"] > 1.25 and p99["bounds"]["max_drift"] == 0.25  # and beyond the drift allowed
    statuses = {c["bound"]: c["status"] for c in p99["checks"]}
    assert statuses["+15 % vs baseline"] == statuses["+25 % vs reference"] == "FAIL"
    drift = next(c for c in verdict["rollback_criteria"] if c["bound"] == "max_drift")
    assert drift["baseline"]["version"] == "1.0.0" and drift["limit"] == pytest.approx(
        drift["baseline"]["estimate"] * 1.25)
    artifacts.read_json(run_dir / "verdict.json", "verdict")  # the drift fields match the shipped schema
    header = next(x for x in (run_dir / "report.md").read_text().splitlines() if x.startswith("| Gate | Severity"))
    assert "| Change [90 % CI] | Drift since 1.0.0 [90 % CI] |" in header
    assert verdict["reference"]["version"] == "1.0.0"
    assert re.search(r"since reference 1\.0\.0 \(drift allowed 25 %\)", (run_dir / "report.md").read_text())
    junit = (run_dir / "junit.xml").read_text()
    assert '<property name="reference" value="1.0.0" />' in junit and '<property name="drift.low" value=' in junit


def test_five_percent_errors_fail_the_success_rate_gate(tmp_path, stack, target) -> None:
    target.configure(error_rate=0.05)
    code, _, _, run_dir = slagate_run(tmp_path, short_spec(tmp_path), target.url, stack.prometheus.url)
    verdict = verdict_of(run_dir)
    assert code == 1 and verdict["decision"] == "NO-GO"
    assert gate_status(verdict, "success rate") == "FAIL"
    success = next(g for g in verdict["gates"] if g["name"] == "success rate")
    assert 0.93 < success["measured"]["estimate"] < 0.97
    load = json.loads((run_dir / "load.json").read_text())
    assert any(group["status"] == "500" for group in load["errors"])


def wrong_reading(tmp_path: Path, old: str, new: str) -> Path:
    """The short demo spec with one line of its [prometheus] reading changed and the success-rate gate on the
    server's figure alone (its default source)."""
    spec = short_spec(tmp_path)
    text = spec.read_text()
    assert old in text and 'source = "both"' in text
    spec.write_text(text.replace(old, new).replace('source = "both"', ""))
    return spec


@pytest.mark.parametrize(
    ("old", "new", "key", "words"),
    [
        ('error_regex = "5.."', 'error_regex = "5xx"', "prometheus.error_regex", 'error_regex "5xx" matches no server '
         "error in the style of the values `code` takes (200, 404, 500)"),
        ('error_regex = "5.."', 'error_regex = "9.."', "prometheus.error_regex", "it would count no 5xx response"),
        ('error_label = "code"', 'error_label = "path"', "prometheus.error_label", "which are not HTTP statuses, "
         "while `code` does"),
        ('error_label = "code"', 'error_label = "status"', "prometheus.error_label", "slagate_demo_requests_total "
         'has no label `status`: the server cannot show errors; judge success rate with source = "client"'),
    ],
)
def test_a_reading_prometheus_refutes_stops_before_any_load(tmp_path, stack, target, old, new, key, words) -> None:
    spec = wrong_reading(tmp_path, old, new)
    env = {**os.environ, "ENDPOINT": target.url, "PROMETHEUS_URL": stack.prometheus.url}
    reports = tmp_path / "reports"
    command = [sys.executable, "-m", "validator.cli", "run", "--spec", str(spec), "--reports-dir", str(reports)]
    completed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert completed.returncode == 2, completed.stderr
    (line,) = [line for line in completed.stderr.splitlines() if line.startswith("slagate: error: ")]
    assert "Traceback" not in completed.stderr, completed.stderr
    assert line.startswith(f"slagate: error: {spec}: {key}: ") and words in line, line
    assert not any(reports.glob("*/load.json"))  # no load was sent
    checked = subprocess.run([sys.executable, "-m", "validator.cli", "check", "--spec", str(spec)], env=env,
                             capture_output=True, text=True, timeout=60, check=False)
    assert checked.returncode == 2 and f"PROBLEM {key}: " in checked.stdout, checked.stdout


@pytest.mark.parametrize(
    ("old", "new", "cause"),
    [
        ('error_regex = "5.."', 'error_regex = "50[34]"', "error_regex_matches_none"),  # matches no value seen
        ("selector = 'job=\"demo\"'", "selector = 'job=\"demo\",code!~\"5..\"'", "failures_out_of_scope"),
    ],
)
def test_a_wrong_reading_the_load_reveals_is_never_go(tmp_path, stack, target, old, new, cause) -> None:
    target.configure(error_rate=0.10)
    spec = wrong_reading(tmp_path, old, new)
    code, stdout, stderr, run_dir = slagate_run(tmp_path, spec, target.url, stack.prometheus.url)
    verdict = verdict_of(run_dir)
    success = next(g for g in verdict["gates"] if g["name"] == "success rate")
    assert success["beside"]["status"] == "PASS"  # the server's figure alone looks perfect ...
    assert success["status"] == "FAIL" and success["reason"].startswith("client: ")  # ... the client's does not
    assert verdict["decision"] == "NO-GO" and code == 1
    assert verdict["measurement"]["runs"][0]["reconciliation"]["cause"] == cause
    assert "the server's counts disagree with the client's" in stderr + (run_dir / "report.md").read_text()


def test_the_right_reading_reconciles_with_the_client(tmp_path, stack, target) -> None:
    target.configure(error_rate=0.10)
    _, _, _, run_dir = slagate_run(tmp_path, short_spec(tmp_path), target.url, stack.prometheus.url)
    reconciliation = verdict_of(run_dir)["measurement"]["runs"][0]["reconciliation"]
    assert not reconciliation["flagged"], reconciliation
    failures = next(row for row in reconciliation["rows"] if row["figure"] == "failures")
    assert failures["client"] > 0.08 * next(r["client"] for r in reconciliation["rows"] if r["figure"] == "requests")


WARNING_GATE = """
[[gates]]
name = "median under 1ms"
metric = "latency_p50"
severity = "warning"
max = "1ms"
"""


def test_failing_warning_gate_is_caution_with_slow_rollout(tmp_path, stack, target) -> None:
    spec = short_spec(tmp_path, WARNING_GATE)
    code, stdout, _, run_dir = slagate_run(tmp_path, spec, target.url, stack.prometheus.url)
    verdict = verdict_of(run_dir)
    assert gate_status(verdict, "median under 1ms") == "FAIL"
    assert verdict["decision"] == "CAUTION", verdict["reasons"]
    assert code == 3
    assert verdict["rollout"]["steps_percent"] == [1, 5, 25, 50, 100]
    assert "1 % → 5 % → 25 % → 50 % → 100 %" in (run_dir / "report.md").read_text()


NO_SERIES_GATE = """
[[gates]]
name = "queue depth"
query = 'slagate_metric_that_does_not_exist{job="demo"}'
severity = "critical"
max = 10
"""


def test_query_without_series_is_no_data_and_no_go(tmp_path, stack, target) -> None:
    spec = short_spec(tmp_path, NO_SERIES_GATE)
    code, _, _, run_dir = slagate_run(tmp_path, spec, target.url, stack.prometheus.url)
    verdict = verdict_of(run_dir)
    assert gate_status(verdict, "queue depth") == "NO_DATA"
    assert verdict["decision"] == "NO-GO" and code == 1
    assert "no series" in (run_dir / "report.md").read_text()


def test_unreachable_prometheus_exits_4_and_never_says_go(tmp_path, stack, target) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    code, stdout, stderr, run_dir = slagate_run(tmp_path, short_spec(tmp_path), target.url, closed)
    assert code == 4
    errors = [line for line in stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and closed in errors[0]
    verdict = verdict_of(run_dir)
    assert verdict["decision"] == "NO-GO" and verdict["could_not_evaluate"]
    go_alone = re.compile(r"(?<!NO-)\bGO\b")
    options = ("| ▶ |", "|  |")  # the report's decision matrix lists every verdict; the run's own row is marked ▶
    for artifact in run_dir.iterdir():
        if artifact.suffix != ".png":
            lines = artifact.read_text().splitlines()
            assert not go_alone.search("\n".join(line for line in lines if not line.startswith(options))), artifact.name
    assert not go_alone.search(stdout)


def test_p99_from_buckets_equals_prometheus_histogram_quantile(tmp_path, stack, target) -> None:
    _, _, _, run_dir = slagate_run(tmp_path, short_spec(tmp_path), target.url, stack.prometheus.url)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    evidence = metrics["measurements"]["latency_p99"]["evidence"]
    bounds = [float(b) for b in evidence["upper_bounds"]]
    ours = histogram_quantile(0.99, bounds, evidence["cumulative_counts"])
    theirs_entry = next(q for q in metrics["queries"] if q["name"] == "latency_p99 (histogram_quantile)")
    theirs = float(theirs_entry["result"][0]["value"][1])
    assert ours == pytest.approx(theirs, rel=1e-9)
    assert 0.01 < ours < 1.0


def test_recorded_baseline_round_trips(tmp_path, stack, target) -> None:
    _, _, _, run_dir = slagate_run(tmp_path, short_spec(tmp_path), target.url, stack.prometheus.url)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "validator.cli",
            "baseline",
            "record",
            str(run_dir),
            "--version",
            "9.9.9",
            "--spec",
            str(short_spec(tmp_path)),
            "--baselines-dir",
            str(tmp_path / "baselines"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    document = json.loads((tmp_path / "baselines/demo/9.9.9.json").read_text())
    assert document["version"] == "9.9.9" and document["provenance"]["run_ids"] == [run_dir.name]
    p99 = document["metrics"]["latency_p99"]
    assert p99["interval"]["low"] <= p99["estimate"] <= p99["interval"]["high"]


def measuring(metrics: dict) -> list[str]:
    """The queries that measured the window (waiting for the last scrape polls as often as it takes)."""
    return [q["query"] for q in metrics["queries"] if q["name"] != "wait for scrape"]


def test_repeated_runs_are_judged_as_units_and_validate_re_measures_each(tmp_path, stack, target) -> None:
    spec = short_spec(tmp_path)
    text = spec.read_text().replace('duration = "12s"', 'duration = "7s"\nrepeat = 2')
    spec.write_text(text.replace('# method = "auto"', 'method = "block"'))  # 5 windows a run: auto would be exact
    code, _, stderr, run_dir = slagate_run(tmp_path, spec, target.url, stack.prometheus.url)
    assert code in (0, 3), stderr
    assert sorted(p.name for p in run_dir.glob("run-*")) == ["run-1", "run-2"]
    report = (run_dir / "report.md").read_text()
    assert "Student t from the spread of the candidate's 2 runs' own estimates (1 df" in report  # its own interval
    assert "spread of the runs' own estimates (2 + 3 runs pooled, 3 df" in report  # its ratio to the 3-run baseline
    single = json.loads((run_dir / "run-1/metrics.json").read_text())
    before = json.loads((run_dir / "metrics.json").read_text())
    assert len(measuring(before)) == 2 * len(measuring(single))
    for part in ("run-1", "run-2"):
        (run_dir / part / "metrics.json").unlink()
    env = {**os.environ, "ENDPOINT": target.url, "PROMETHEUS_URL": stack.prometheus.url}
    completed = subprocess.run(
        [sys.executable, "-m", "validator.cli", "validate", str(run_dir), "--spec", str(spec)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode in (0, 3), completed.stderr
    after = json.loads((run_dir / "metrics.json").read_text())
    assert all((run_dir / part / "metrics.json").is_file() for part in ("run-1", "run-2"))
    assert measuring(after) == measuring(before)
    p99 = ("measurements", "latency_p99", "evidence", "cumulative_counts")
    assert _dig(after, p99) == _dig(before, p99)  # the same windows, re-queried: the same counts


def test_auto_repeat_runs_until_decided_and_reports_each_look(tmp_path, stack, target) -> None:
    spec = demo_spec(tmp_path, 'repeat = "auto"\nmax_repeat = 3', duration="8s")
    code, stdout, stderr, run_dir = slagate_run(tmp_path, spec, target.url, stack.prometheus.url)
    assert code in (0, 1, 3), stderr
    verdict = json.loads((run_dir / "verdict.json").read_text())
    looks = verdict["looks"]
    runs = sorted(p.name for p in run_dir.glob("run-*"))
    assert [look["runs"] for look in looks] == list(range(1, len(runs) + 1)) and 1 <= len(runs) <= 3
    assert looks[-1]["stop"] and not any(look["stop"] for look in looks[:-1])
    assert looks[-1]["why"] in ("decided", "futile") or len(runs) == 3
    assert all(look["level"] > verdict["level"] for look in looks)  # each look judged beyond the spec's level
    recorded = json.loads((run_dir / "metrics.json").read_text())["looks"]  # what the pipeline stopped on
    assert [(r["runs"], r["why"]) for r in recorded] == [(look["runs"], look["why"]) for look in looks]
    report = (run_dir / "report.md").read_text()
    assert "Looks:" in report and "O'Brien–Fleming-type error spending" in report
    (tmp_path / "looks.md").write_text(report)


def _dig(document: dict, keys: tuple[str, ...]) -> object:
    for key in keys:
        document = document[key]
    return document


def test_a_verbose_demo_run_says_where_the_time_went(tmp_path) -> None:
    """`slagate run --demo --verbose` (its own demo stack, a 5 s load): after the verdict, every phase of the run
    from the process's start, demo start to stop, adding up to no more than the total."""
    spec = demo_spec(tmp_path, duration="5s")
    completed = subprocess.run(
        [sys.executable, "-m", "validator.cli", "run", "--demo", "--verbose", "--spec", str(spec),
         "--reports-dir", str(tmp_path / "reports")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode in (0, 1, 3), completed.stderr
    lines = completed.stderr.splitlines()
    start = lines.index("slagate: where the time went (seconds, from the process's start):")
    rows = dict(re.fullmatch(r"slagate:   (.+?)\s+(\d+\.\d+)", line).groups() for line in lines[start + 1:])
    seconds = {name: float(value) for name, value in rows.items()}
    phases = list(seconds)[: list(seconds).index("total")]
    assert phases == [
        "start-up and imports", "spec and baseline read", "demo: target and Prometheus started",
        "demo: wait for the first scrape", "preflight: locustfile, Prometheus, target", "load: Locust set up",
        "load: warm-up and steady window", "load: users stopped, histograms collected",
        "imports for the report (charts, history)", "wait for a scrape after the window",
        "Prometheus queries and client figures", "judging: checks, gates, verdict", "charts", "writing artifacts",
        "demo: target and Prometheus stopped", "other: run folder, progress lines, gaps",
    ]  # fmt: skip
    assert sum(seconds[name] for name in phases) <= seconds["total"] + 0.01 * len(phases)
    assert seconds["load: warm-up and steady window"] == pytest.approx(5.0, abs=0.1)
    assert seconds["outside the load"] == pytest.approx(seconds["total"] - 5.0, abs=0.1)
    assert seconds["start → load start"] + 5.0 + seconds["load end → verdict"] == pytest.approx(seconds["total"],
                                                                                                abs=0.05)
