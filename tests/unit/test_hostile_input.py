"""Hostile and broken input (docs/reliability.md): secrets in every encoding, links in the reports folder, click's
own usage errors, and the exit codes a CAUTION may take. Each test failed before its fix."""

import base64
import json
import math
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import write_spec
from tests.unit.test_cli import recorded_run
from validator import artifacts, redact
from validator.cli import main
from validator.prometheus.source import _bucket_vector, parse_le, unparsable_le, window_increases
from validator.report import history
from validator.spec import load_spec
from validator.spec.reader import SpecError


@pytest.fixture(autouse=True)
def forget_secrets(monkeypatch):
    monkeypatch.setattr(redact, "_known", [])


def test_a_known_password_is_masked_in_every_form_it_can_take() -> None:
    redact.keep_url_credentials("http://bob:s3%2Fcr3t%22x@host:1")
    password = 's3/cr3t"x'
    shown = [password, "s3%2Fcr3t%22x", base64.b64encode(f"bob:{password}".encode()).decode(),
             json.dumps(password)[1:-1], "bob:" + password]
    for form in shown:
        assert form not in redact.redact(f"before {form} after"), form
    assert redact.redact("GET http://alice:other@h:9/x") == "GET http://***@h:9/x"  # unknown ones too


def test_a_prometheus_token_and_basic_password_are_masked_once_read(monkeypatch, tmp_path) -> None:
    from validator.prometheus.client import PrometheusClient
    from validator.spec.prometheus import PrometheusSpec, Secret

    spec = PrometheusSpec(url="http://127.0.0.1:9", latency_histogram="h", request_counter="c", spec_file="s.toml",
                          basic_auth_user="carol",
                          basic_auth_password=Secret("prometheus.basic_auth_password_env", env="PW"))
    PrometheusClient(spec, environ={"PW": "basic-pw-123"})
    token = base64.b64encode(b"carol:basic-pw-123").decode()
    shown = redact.redact(f"echo: Authorization: Basic {token}; pw basic-pw-123")
    assert shown == "echo: Authorization: Basic ***; pw ***"


def test_every_file_written_and_every_line_printed_is_redacted(tmp_path, capsys) -> None:
    redact.keep_secret("tok-abc-123")
    path = artifacts.write_json(tmp_path / "x.json", {"error": 'said "Bearer tok-abc-123"'})
    assert "tok-abc-123" not in path.read_text() and "Bearer ***" in path.read_text()
    stream = redact.RedactingStream(sys.stderr)
    stream.write("token tok-abc-123\n")
    assert "tok-abc-123" not in capsys.readouterr().err


def test_the_target_url_s_credentials_never_reach_the_profile_or_the_first_line(tmp_path) -> None:
    from tests.conftest import write_spec
    from validator.spec import load_spec

    spec = load_spec(write_spec(tmp_path), {"ENDPOINT": "http://u:tpw%2Fsecret@127.0.0.1:8080"})
    assert spec.shown_target == "http://***@127.0.0.1:8080"
    assert "tpw/secret" not in redact.redact("sent Basic " + base64.b64encode(b"u:tpw/secret").decode() + " tpw/secret")


def test_a_password_with_a_slash_is_one_line_saying_to_percent_encode_it(tmp_path) -> None:
    from tests.conftest import write_spec

    result = CliRunner().invoke(main, ["run", "--spec", str(write_spec(tmp_path))],
                                env={"ENDPOINT": "http://u:se/cret@127.0.0.1:8080"})
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "percent-encoded" in result.output and "se/cret" not in result.output and "cret" not in result.output


def test_a_history_link_pointing_outside_is_replaced_not_followed(tmp_path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / history.HISTORY_FILE).symlink_to(outside)
    history.append(reports, {"service": "s", "run_id": "r1"})
    assert outside.read_text() == "precious\n"
    assert not (reports / history.HISTORY_FILE).is_symlink()
    assert json.loads((reports / history.HISTORY_FILE).read_text())["run_id"] == "r1"


@pytest.mark.parametrize("args", [["run", "--bogus"], ["nope"], ["run", "--caution-exit-code", "4"],
                                  ["report"], ["baseline", "show"]])
def test_click_usage_errors_are_one_line_exit_2(args) -> None:
    result = CliRunner().invoke(main, args)
    lines = result.output.splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("slagate: error: "), result.output
    assert "--help" in lines[0]


@pytest.mark.parametrize("value", ["1", "2", "4", "5", "255"])
def test_caution_cannot_take_another_outcome_s_code(value) -> None:
    result = CliRunner().invoke(main, ["run", "--caution-exit-code", value])
    assert result.exit_code == 2 and "'0', '3'" in result.output


def test_help_and_version_still_exit_0() -> None:
    assert CliRunner().invoke(main, ["--help"]).exit_code == 0
    assert CliRunner().invoke(main, ["--version"]).exit_code == 0
    assert CliRunner().invoke(main, ["run", "--help"]).exit_code == 0


def test_history_with_no_runs_is_a_note_and_a_missing_folder_a_usage_error(tmp_path) -> None:
    empty = CliRunner().invoke(main, ["history", "--reports-dir", str(tmp_path)])
    assert empty.exit_code == 0 and "no run recorded yet" in empty.output
    missing = CliRunner().invoke(main, ["history", "--reports-dir", str(tmp_path / "none")])
    assert missing.exit_code == 2 and "expected an existing reports folder" in missing.output
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("le", "read"),
    [("0.25", 0.25), ("+Inf", math.inf), ("Inf", math.inf), ("1e-400", 0.0), ("0x1p-1", 0.5), ("0X.8P0", 0.5),
     ("0x_1p-1", 0.5), (".5", 0.5), ("5.", 5.0),
     # what Go's strconv.ParseFloat rejects, so Prometheus skips the series
     ("Hello World", None), ("1__0", None), ("1_0", None), ("1e400", None), (" 1", None), ("1 ", None),
     ("0x1", None), ("+nan", None), ("", None)],
)
def test_le_is_read_as_prometheus_reads_it(le, read) -> None:
    assert parse_le(le) == read


def test_a_bucket_series_prometheus_would_skip_is_skipped_and_named() -> None:
    answer = [{"metric": {"le": le}, "value": [0, str(count)]}
              for le, count in [("0.1", 5), ("Hello World", 3), ("0x1p-1", 7), ("+Inf", 10), ("1e400", 8)]]
    assert _bucket_vector(answer) == ((0.1, 0.5, math.inf), (5.0, 7.0, 10.0))
    assert unparsable_le(answer) == ["1e400", "Hello World"]
    windows = [{"metric": {"le": le}, "values": [[100, "0"], [101, "4"]]} for le in ("0.1", "1__0", "+Inf")]
    assert window_increases(windows, (0.1, math.inf), 100, 1, 1).tolist() == [[4.0, 4.0]]


def spec_error(tmp_path: Path, load: str = "", extra: str = "", gates: str = "") -> str:
    """The one-line error `load_spec` gives for the minimal spec with these lines ('' when it loads)."""
    path = write_spec(tmp_path, load, extra)
    path.write_text(path.read_text() + gates)
    try:
        load_spec(path, {})
    except SpecError as error:
        assert "\n" not in str(error)
        return str(error)
    return ""


@pytest.mark.parametrize(
    ("load", "extra", "key"),
    [('users = 100000000', "", "load.users"), ('spawn_rate = "1e12/s"', "", "load.spawn_rate"),
     ('arrival_rate = "99999999/s"', "", "load.arrival_rate"),
     ('duration = "99999999999999999999h"', "", "load.duration"), ("workers = 100000", "", "load.workers"),
     ("repeat = 100000", "", "load.repeat"), ('request_timeout = "1000h"', "", "load.request_timeout"),
     ("", 'retry_deadline = "1000000h"', "prometheus.retry_deadline"),
     ("", 'scrape_interval = "100000h"', "prometheus.scrape_interval"),
     ("", "[confidence]\nresamples = 100000000", "confidence.resamples")],
)
def test_size_like_keys_are_bounded(tmp_path, load, extra, key) -> None:
    error = spec_error(tmp_path, load, extra)
    assert f": {key}: expected " in error and ("at most" in error or " to " in error), error


@pytest.mark.parametrize(
    ("gate", "key", "says"),
    [('metric = "latency_p95"\nmax = "-250ms"', "max", "zero or more"),
     ('metric = "success_rate"\nmin = "150%"', "min", "between 0% and 100%"),
     ('metric = "throughput"\nmin = "-5/s"', "min", "zero or more"),
     ('metric = "latency_p50"\nmin = "300ms"\nmax = "200ms"', "min", "at most max"),
     ('name = "custom"\nquery = "up"\nmin = 5\nmax = 1', "min", "at most max")],
)
def test_impossible_bounds_are_refused(tmp_path, gate, key, says) -> None:
    error = spec_error(tmp_path, gates=f"[[gates]]\n{gate}\n")
    assert f"gates[1].{key}: expected " in error and says in error, error


def test_possible_bounds_still_load(tmp_path) -> None:
    gates = ('[[gates]]\nmetric = "success_rate"\nmin = "100%"\n'
             '[[gates]]\nname = "c"\nquery = "up"\nmin = -5\nmax = 0\n'
             '[[gates]]\nmetric = "throughput"\nmin = 0\n')
    assert spec_error(tmp_path, 'users = 100000\nduration = "24h"', "[confidence]\nresamples = 100000", gates) == ""


def tampered(run_dir: Path, change) -> None:
    path = run_dir / "metrics.json"
    document = json.loads(path.read_text())
    change(document["measurements"])
    path.write_text(json.dumps(document))


@pytest.mark.parametrize(
    ("change", "key", "says"),
    [(lambda m: m["success_rate"]["evidence"].update(successes=float("nan")), "measurements.success_rate.evidence"
      ".successes", "finite numbers"),
     (lambda m: m["success_rate"]["evidence"].update(successes=9000), "measurements.success_rate.evidence.successes",
      "successes at most total"),
     (lambda m: m["latency_p99"]["evidence"].update(cumulative_counts=[float("nan")] * 6),
      "measurements.latency_p99.evidence.cumulative_counts", "finite counts"),
     (lambda m: m["latency_p99"]["evidence"].update(cumulative_counts=[0, 100, 6900, 50, 7000, 7000]),
      "measurements.latency_p99.evidence.cumulative_counts", "never decrease"),
     (lambda m: m["latency_p99"].update(error="the query failed"), "measurements.latency_p99.error",
      "measured or missing, not both")],
)
def test_a_broken_metrics_artifact_is_exit_2_naming_the_file_and_the_field(tmp_path, change, key, says) -> None:
    run_dir = recorded_run(tmp_path)
    path = run_dir / "metrics.json"
    document = json.loads(path.read_text())
    evidence = {"kind": "proportion", "successes": 6990, "total": 7000, "runs": 1}
    document["measurements"]["success_rate"] = {"metric": "success_rate", "source": "s", "evidence": evidence,
                                                "error": None}
    path.write_text(json.dumps(document))
    spec = write_spec(tmp_path)
    assert CliRunner().invoke(main, ["report", str(run_dir), "--spec", str(spec)]).exit_code == 0
    tampered(run_dir, change)
    for command in (["report", str(run_dir), "--spec", str(spec)], ["checklist", str(run_dir), "--spec", str(spec)]):
        result = CliRunner().invoke(main, command)
        lines = result.output.splitlines()
        assert result.exit_code == 2 and len(lines) == 1 and "Traceback" not in result.output, result.output
        assert f"{path}: {key}: expected " in lines[0] and says in lines[0], lines[0]


@pytest.mark.parametrize(
    ("template", "says"),
    [(b"\xff\xfe not utf-8", "not UTF-8"), (b"{% include 'other.j2' %}", "without {% include %}"),
     (b"{% extends 'base.j2' %}", "without {% include %}"), (b"{% if %}", "a valid Jinja template")],
)
def test_a_broken_checklist_template_is_refused_before_the_load(tmp_path, template, says) -> None:
    path = tmp_path / "c.md.j2"
    path.write_bytes(template)
    spec = write_spec(tmp_path, extra=f"[report]\nchecklist = {json.dumps(str(path))}")
    result = CliRunner().invoke(main, ["run", "--spec", str(spec), "--reports-dir", str(tmp_path / "r")])
    lines = result.output.splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and f"{path}: (template): expected" in lines[0], result.output
    assert says in lines[0] and not (tmp_path / "r").exists()


def test_a_template_failing_as_it_renders_keeps_the_verdict_report_and_history(tmp_path) -> None:
    run_dir = recorded_run(tmp_path)
    template = tmp_path / "c.md.j2"
    template.write_text("{% for i in range(10**9) %}{{ i }}{% endfor %}")  # past the sandbox's range limit
    spec = write_spec(tmp_path, extra=f"[report]\nchecklist = {json.dumps(str(template))}")
    result = CliRunner().invoke(main, ["report", str(run_dir), "--spec", str(spec)])
    lines = result.output.splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and "Traceback" not in result.output, result.output
    assert f"{template}: (template): expected a checklist template that renders (Range too big" in lines[0]
    assert json.loads((run_dir / "verdict.json").read_text())["decision"] == "GO"
    assert (run_dir / "report.md").exists() and (run_dir.parent / history.HISTORY_FILE).exists()


def test_rules_tests_with_an_error_regex_that_is_no_regex_is_a_skipped_test_not_a_crash(tmp_path) -> None:
    spec = write_spec(tmp_path, extra='error_regex = "5..\\\\"')
    rules, tests = tmp_path / "rules.yml", tmp_path / "rules.test.yml"
    result = CliRunner().invoke(main, ["rules", "--spec", str(spec), "-o", str(rules), "--tests", str(tests)])
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    assert "not a valid regular expression" in result.output


def test_an_unforeseen_failure_is_one_line_exit_4_never_a_traceback(monkeypatch, tmp_path) -> None:
    from validator.cli import stages

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("something slagate did not foresee\nover two lines")

    monkeypatch.setattr(stages.pipeline, "load_inputs", broken)
    result = CliRunner().invoke(main, ["run", "--spec", str(write_spec(tmp_path))])
    lines = result.output.splitlines()
    assert result.exit_code == 4 and len(lines) == 1 and "Traceback" not in result.output, result.output
    assert lines[0] == ("slagate: error: internal error: RuntimeError: something slagate did not foresee over two "
                        "lines (set SLAGATE_TRACEBACK=1 to see where; please report it)")
