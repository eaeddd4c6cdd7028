"""The command line through click's CliRunner: usage errors exit 2 with one line, `report` and `validate`
re-run their stage on a recorded run folder. No load runs and nothing is reached over the network: the
only address used is a closed loopback port."""

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.conftest import ROOT, demo_spec, pin_reference, write_spec
from validator.cli import main
from validator.evidence import Measurement, QuantileEvidence
from validator.load.locustfile import LocustfileError, user_classes_from
from validator.load.recorder import RequestRecorder
from validator.load.result import LoadResult
from validator.net import free_port
from validator.pipeline import MetricsRecord
from validator.prometheus import Window

ORIGIN = 1_700_000_000.0
EXIT_BY_DECISION = {"GO": 0, "NO-GO": 1, "CAUTION": 3}


def slagate(*args: str) -> Result:
    """`slagate ARGS` in this process, with ENDPOINT / PROMETHEUS_URL unset so the spec's URLs hold."""
    return CliRunner().invoke(main, list(args), env={"ENDPOINT": None, "PROMETHEUS_URL": None})


def assert_usage_error(result: Result, *named: str) -> str:
    """Exit 2 through SystemExit (no uncaught exception), one `slagate: error:` line naming each of `named`."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("slagate: error:")]
    assert len(errors) == 1, result.output
    for text in named:
        assert text in errors[0], (text, errors[0])
    return errors[0]


# ---- exit code 2: the spec -------------------------------------------------------------------------------


def test_malformed_toml_names_the_file(tmp_path: Path) -> None:
    spec = tmp_path / "sla.toml"
    spec.write_text('[service]\nname = "svc"\n[load\nusers = 3\n')
    result = slagate("run", "--spec", str(spec), "--reports-dir", str(tmp_path / "reports"))
    assert_usage_error(result, str(spec))
    assert not (tmp_path / "reports").exists()


def test_a_key_of_the_wrong_type_names_file_and_key(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, 'users = "many"')
    result = slagate("run", "--spec", str(spec), "--reports-dir", str(tmp_path / "reports"))
    assert_usage_error(result, str(spec), "load.users")


def test_an_unknown_metric_names_file_key_and_metric(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, extra='[[gates]]\nmetric = "latency_p42"\nmax = "1s"\n')
    result = slagate("run", "--spec", str(spec), "--reports-dir", str(tmp_path / "reports"))
    assert_usage_error(result, str(spec), "gates[0].metric", "latency_p42")


# ---- exit code 2: the baseline ---------------------------------------------------------------------------


def spec_with_baseline(tmp_path: Path, document: str) -> tuple[Path, Path]:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(document)
    return write_spec(tmp_path, extra='[baseline]\nfile = "baseline.json"\n'), baseline


def test_a_truncated_baseline_names_the_baseline_file(tmp_path: Path) -> None:
    shipped = (ROOT / "baselines/demo/1.0.0.json").read_text()
    spec, baseline = spec_with_baseline(tmp_path, shipped[: len(shipped) // 2])
    result = slagate("run", "--spec", str(spec), "--reports-dir", str(tmp_path / "reports"))
    assert_usage_error(result, str(baseline))


def test_a_baseline_missing_a_key_names_the_file_and_the_key(tmp_path: Path) -> None:
    document = json.loads((ROOT / "baselines/demo/1.0.0.json").read_text())
    del document["metrics"]
    spec, baseline = spec_with_baseline(tmp_path, json.dumps(document))
    result = slagate("run", "--spec", str(spec), "--reports-dir", str(tmp_path / "reports"))
    assert_usage_error(result, str(baseline), "metrics")


# ---- exit code 2: --demo-set -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (("--demo", "--demo-set", "foo"), ("--demo-set", "foo")),
        (("--demo", "--demo-set", "no_such_setting=1"), ("--demo-set", "no_such_setting")),
        (("--demo-set", "latency_multiplier=2"), ("--demo-set", "--demo")),
    ],
    ids=["without-equals", "unknown-key", "without-demo"],
)
def test_a_bad_demo_set_is_refused_before_anything_starts(
    tmp_path: Path, options: tuple[str, ...], named: tuple[str, ...]
) -> None:
    reports = tmp_path / "reports"
    result = slagate("run", "--spec", str(demo_spec(tmp_path)), "--reports-dir", str(reports), *options)
    assert_usage_error(result, *named)
    assert not reports.exists() or not any(reports.iterdir())


# ---- exit code 2: the locustfile -------------------------------------------------------------------------

def test_a_missing_credential_is_exit_2_and_leaves_no_run_folder(tmp_path: Path) -> None:
    spec = demo_spec(tmp_path)
    spec.write_text(spec.read_text().replace("[prometheus]\n", '[prometheus]\nbearer_token_env = "SLAGATE_NO_SUCH"\n'))
    reports = tmp_path / "reports"
    result = slagate("run", "--spec", str(spec), "--reports-dir", str(reports))
    assert_usage_error(result, "prometheus.bearer_token_env", "SLAGATE_NO_SUCH")
    assert not reports.exists() or not any(reports.iterdir())


SHAPED_LOCUSTFILE = """
from locust import FastHttpUser, LoadTestShape, task


class Api(FastHttpUser):
    @task
    def items(self):
        self.client.get("/api/items")


class Steps(LoadTestShape):
    def tick(self):
        return (10, 10) if self.get_run_time() < 60 else None
"""


def test_a_locustfile_with_a_load_test_shape_is_refused_naming_the_class(tmp_path: Path) -> None:
    """The spec's [load] is the profile; a LoadTestShape would silently be ignored, so it is refused."""
    locustfile = tmp_path / "shaped.py"
    locustfile.write_text(SHAPED_LOCUSTFILE)
    with pytest.raises(LocustfileError, match=r"shaped\.py: defines LoadTestShape Steps: "):
        user_classes_from(str(locustfile))  # before the command: a worker that accepted it would wait for its master
    result = slagate("worker", "--master", f"127.0.0.1:{free_port()}", "--locustfile", str(locustfile))
    assert_usage_error(result, str(locustfile), "LoadTestShape", "Steps")


# ---- slagate report / validate on a recorded run folder --------------------------------------------------

SERVER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, float("inf"))
SERVER_COUNTS = (0.0, 100.0, 6900.0, 7000.0, 7000.0, 7000.0)  # what Prometheus returned for the window


def recorded_run(tmp_path: Path) -> Path:
    """A run folder as `slagate run` leaves it: load.json from a real capture (20 users, 20 ms, 1000 req/s
    for 10 s, steady window 2-9 s) and metrics.json with the server's latency buckets over that window."""
    times = iter(ORIGIN + i / 1000 for i in range(10_000))
    recorder = RequestRecorder(ORIGIN, clock=lambda: next(times))
    for _ in range(10_000):
        recorder("GET", "/api/items", 20.0)
    capture = recorder.drain()
    load = LoadResult.from_capture(
        capture,
        window_start=ORIGIN + 2,
        window_end=ORIGIN + 9,
        profile={
            "model": "closed",
            "locustfile": str(tmp_path / "locustfile.py"),
            "users": 20,
            "spawn_rate": 20,
            "duration_s": 10.0,
            "warmup_s": 2.0,
            "workers": 1,
            "target": "http://127.0.0.1:1",
            "mean_wait_s": 0.0,
        },
        generator={},
        locust_requests=capture.requests,
    )
    run_dir = tmp_path / "reports" / "20240101T000000Z-svc"
    run_dir.mkdir(parents=True)
    load.write(run_dir)
    buckets = "sum by (le) (increase(h_bucket[7000ms]))"
    evidence = QuantileEvidence(0.99, SERVER_BUCKETS, SERVER_COUNTS)
    source = f"PromQL `{buckets}` at {ORIGIN + 9:.3f}, interpolated as `histogram_quantile(0.99, {buckets})`"
    metrics = MetricsRecord(
        "http://127.0.0.1:2",
        Window(ORIGIN + 2, ORIGIN + 9),
        {"latency_p99": Measurement("latency_p99", source, evidence)},
    )
    metrics.write(run_dir)
    return run_dir


def verdict_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "verdict.json").read_text())


def test_report_re_judges_a_recorded_run_and_exits_with_its_verdict(tmp_path: Path) -> None:
    run_dir = recorded_run(tmp_path)
    spec = write_spec(tmp_path)  # latency_p99 max 1s: the server's p99 is under 25 ms
    result = slagate("report", str(run_dir), "--spec", str(spec))
    verdict = verdict_of(run_dir)
    assert verdict["decision"] == "GO", (result.output, verdict["reasons"])
    assert result.exit_code == 0, result.output
    assert "## Verdict: **GO**" in (run_dir / "report.md").read_text()

    tighter = write_spec(tmp_path).read_text().replace('max = "1s"', 'max = "10ms"')
    spec.write_text(tighter)  # an edited gate: the same figures now fail it
    result = slagate("report", str(run_dir), "--spec", str(spec))
    verdict = verdict_of(run_dir)
    assert verdict["decision"] == "NO-GO" and verdict["gates"][0]["status"] == "FAIL", verdict
    assert result.exit_code == EXIT_BY_DECISION["NO-GO"], result.output
    assert "## Verdict: **NO-GO**" in (run_dir / "report.md").read_text()


def test_report_verbose_says_where_the_time_went_after_the_verdict(tmp_path: Path) -> None:
    run_dir = recorded_run(tmp_path)
    result = slagate("report", str(run_dir), "--spec", str(write_spec(tmp_path)), "--verbose")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    start = lines.index("slagate: where the time went (seconds, from the process's start):")
    assert lines[start - 1].startswith("slagate: report ")  # after the verdict and the report's path
    rows = {line[len("slagate:   "):].rsplit(None, 1)[0].strip(): float(line.rsplit(None, 1)[1])
            for line in lines[start + 1:]}
    assert list(rows) == ["start-up and imports", "spec and baseline read", "judging: checks, gates, verdict",
                          "charts", "writing artifacts", "other: run folder, progress lines, gaps", "total"]
    assert sum(seconds for name, seconds in rows.items() if name != "total") <= rows["total"] + 0.05
    assert "where the time went" not in slagate("report", str(run_dir), "--spec", str(write_spec(tmp_path))).output


def validate_without_prometheus(run_dir: Path, tmp_path: Path) -> str:
    """`slagate validate` against a closed port: exit 4, no traceback, one error line naming the URL (returned)."""
    closed = f"http://127.0.0.1:{free_port()}"
    result = slagate("validate", str(run_dir), "--spec", str(write_spec(tmp_path, prometheus=closed)))
    assert result.exit_code == 4, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("slagate: error:")]
    assert len(errors) == 1 and "could not evaluate" in errors[0] and closed in errors[0], result.output
    return errors[0]


def test_validate_with_prometheus_unreachable_exits_4_and_keeps_the_earlier_measurement(tmp_path: Path) -> None:
    run_dir = recorded_run(tmp_path)
    spec = write_spec(tmp_path)
    assert slagate("report", str(run_dir), "--spec", str(spec)).exit_code == 0  # a measured, judged run
    kept = {name: (run_dir / name).read_bytes() for name in ("load.json", "metrics.json", "verdict.json", "report.md")}
    assert "is unchanged" in validate_without_prometheus(run_dir, tmp_path)
    assert {name: (run_dir / name).read_bytes() for name in kept} == kept


def test_validate_with_prometheus_unreachable_reports_a_run_never_measured_as_not_evaluated(tmp_path: Path) -> None:
    run_dir = recorded_run(tmp_path)
    (run_dir / "metrics.json").unlink()  # the load ran, Prometheus was never queried
    load_before = (run_dir / "load.json").read_bytes()
    validate_without_prometheus(run_dir, tmp_path)
    verdict = verdict_of(run_dir)
    assert verdict["decision"] == "NO-GO" and verdict["could_not_evaluate"]
    report = (run_dir / "report.md").read_text()
    assert "Could not evaluate" in report and "## Verdict: **NO-GO**" in report
    options = ("| ▶ |", "|  |")  # the decision matrix lists every verdict; the run's own row is marked ▶
    assert not re.search(r"(?<!NO-)\bGO\b", "\n".join(x for x in report.splitlines() if not x.startswith(options)))
    assert (run_dir / "load.json").read_bytes() == load_before


def test_baseline_diff_takes_bare_versions_of_the_spec_service() -> None:
    result = slagate("baseline", "diff", "1.0.0", "1.1.0", "--spec", str(ROOT / "sla.toml"))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("## baseline demo 1.1.0 against 1.0.0")
    unknown = slagate("baseline", "show", "0.9.9", "--spec", str(ROOT / "sla.toml"))
    assert_usage_error(unknown, "0.9.9.json", "recorded: 1.0.0, 1.1.0")


def test_baseline_diff_shows_the_drift_since_the_pinned_reference(tmp_path: Path) -> None:
    options = ("--spec", str(pin_reference(demo_spec(tmp_path), "1.1.0")), "--baselines-dir", str(ROOT / "baselines"))
    per_release = slagate("baseline", "diff", "1.0.0", "1.1.0", *options)
    same = slagate("baseline", "diff", "1.1.0", "1.1.0", *options)
    assert per_release.exit_code == 0 and same.exit_code == 0, per_release.output + same.output
    assert same.output.startswith("## baseline demo 1.1.0 against 1.1.0 (pinned reference 1.0.0)")
    header = next(line for line in same.output.splitlines() if line.startswith("| Gate"))
    assert "| Drift since 1.0.0 [90 % CI] |" in header

    def cells(output: str, gate: str) -> list[str]:
        return [c.strip() for c in next(x for x in output.splitlines() if x.startswith(f"| {gate} |")).split("|")]

    columns = header.split("|")
    change, drift = columns.index(" Change [90 % CI] "), columns.index(" Drift since 1.0.0 [90 % CI] ")
    assert cells(same.output, "p99 latency")[drift] == cells(per_release.output, "p99 latency")[change]
    assert cells(same.output, "p99 latency")[change].startswith("×1.000")
    assert cells(same.output, "p95 latency")[drift] == "—"  # p95 has no max_drift
    assert "+25 % vs reference" in cells(same.output, "p99 latency")[drift + 1]
