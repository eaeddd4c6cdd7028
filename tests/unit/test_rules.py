"""`slagate rules`: the generated Prometheus rules pass Debian's `promtool check rules`, and their generated unit
tests pass `promtool test rules` (a breach fires, a healthy service does not, missing data fires the no-data
alerts) — for the demo spec, a spec with an SLO, and every example spec in examples/."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tests.conftest import ROOT, demo_spec, pin_reference, write_spec
from tests.unit.test_dashboard import routed
from validator.baseline.file import load_baseline
from validator.canary import live_promql
from validator.canary.rules_tests import Untestable, selector_labels
from validator.cli import main
from validator.judge.gates import CheckKind
from validator.judge.rollback import BaselineFigure, baseline_figures, criteria, relative_limit
from validator.spec import load_spec

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="no promtool: apt-get install -y prometheus")
EXAMPLES = sorted((ROOT / "examples").glob("*/sla.toml"))

SLO_AND_ROUTE = """
[[gates]]
name = "items p99"
metric = "latency_p99"
route = "/api/items"
max = "300ms"

[rules]
window = "2m"
for = "1m"
absent_for = "3m"
track_label = "track"

[rules.slo]
objective = "99.9%"
"""


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=60, check=False)


def write_rules(spec: Path, out: Path, *extra: str) -> tuple[Path, Path, str]:
    """`slagate rules` with promtool tests beside the rules; returns both paths and stderr."""
    rules, tests = out / "rules.yml", out / "rules.test.yml"
    result = CliRunner().invoke(main, ["rules", "--spec", str(spec), "-o", str(rules), "--tests", str(tests), *extra])
    assert result.exit_code == 0, result.output
    return rules, tests, result.output


@needs_promtool
@pytest.mark.parametrize("extra", ["", SLO_AND_ROUTE], ids=["demo", "demo+route+slo"])
def test_demo_rules_pass_promtool_check_and_their_unit_tests(tmp_path: Path, extra: str) -> None:
    rules, tests, _ = write_rules(routed(demo_spec(tmp_path, extra=extra)), tmp_path)
    checked = promtool("check", "rules", str(rules))
    assert checked.returncode == 0 and "SUCCESS" in checked.stdout, checked.stdout + checked.stderr
    tested = promtool("test", "rules", str(tests))
    assert tested.returncode == 0 and "SUCCESS" in tested.stdout, tested.stdout + tested.stderr
    document = yaml.safe_load(tests.read_text())
    names = [group["name"] for group in document["tests"]]
    assert "healthy: no alert fires" in names and "no data: every critical gate's no-data alert fires" in names
    alerts = [r["alert"] for g in yaml.safe_load(rules.read_text())["groups"] for r in g["rules"] if "alert" in r]
    breaches = {name.removeprefix("breach: ").removesuffix(" fires") for name in names if name.startswith("breach")}
    no_data = {name for name in alerts if name.endswith("NoData")}
    assert breaches == set(alerts) - no_data  # every bound and burn-rate alert has its breach test
    if extra:
        scoped = [r for g in yaml.safe_load(rules.read_text())["groups"] for r in g["rules"]
                  if r.get("labels", {}).get("slagate_scope") == "route=/api/items"]  # fmt: skip
        assert scoped and 'path="/api/items"' in scoped[0]["expr"]
        assert {"SlagateDemoErrorBudgetBurn1h", "SlagateDemoErrorBudgetBurn6h"} <= set(alerts)


@needs_promtool
def test_a_rule_that_would_not_fire_fails_its_generated_test(tmp_path: Path) -> None:
    rules, tests, _ = write_rules(demo_spec(tmp_path), tmp_path)
    rules.write_text(rules.read_text().replace("> 0.25\n", "> 1000\n"))  # p99's max made unreachable
    tested = promtool("test", "rules", str(tests))
    assert tested.returncode != 0 and "SlagateDemoP99LatencyMax" in tested.stdout + tested.stderr


@needs_promtool
@pytest.mark.skipif(not EXAMPLES, reason="no examples/*/sla.toml yet")
@pytest.mark.parametrize("spec", EXAMPLES, ids=[p.parent.name for p in EXAMPLES])
def test_every_example_spec_gives_rules_promtool_accepts(tmp_path: Path, spec: Path) -> None:
    rules, tests, _ = write_rules(spec, tmp_path)
    checked = promtool("check", "rules", str(rules))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    if tests.exists():
        tested = promtool("test", "rules", str(tests))
        assert tested.returncode == 0, tested.stdout + tested.stderr


def test_rules_hold_every_bound_with_severity_for_and_the_baseline_version(tmp_path: Path) -> None:
    rules, _, _ = write_rules(demo_spec(tmp_path), tmp_path)
    groups = {g["name"]: g["rules"] for g in yaml.safe_load(rules.read_text())["groups"]}
    alerts = {r["alert"]: r for r in groups["slagate-demo-alerts"]}
    p99 = alerts["SlagateDemoP99LatencyMax"]
    assert p99["expr"] == 'slagate:latency_p99:5m{slagate_service="demo",slagate_scope=""} > 0.25'
    assert p99["for"] == "2m"
    assert p99["labels"]["severity"] == "critical" and p99["labels"]["slagate_gate"] == "p99 latency"
    assert "p99 latency" in p99["annotations"]["summary"] and "max" in p99["annotations"]["summary"]
    regression = alerts["SlagateDemoP99LatencyRegression"]
    assert regression["annotations"]["baseline_version"] == "1.0.0"
    assert alerts["SlagateDemoMedianLatencyRegression"]["labels"]["severity"] == "warning"
    assert alerts["SlagateDemoThroughputMin"]["expr"].endswith("< 100.0")
    assert {"SlagateDemoP99LatencyNoData", "SlagateDemoSuccessRateNoData"} <= set(alerts)
    assert "SlagateDemoThroughputNoData" not in alerts  # warning gates alert on their bounds only
    assert alerts["SlagateDemoP99LatencyNoData"]["expr"].startswith("absent(")
    records = {r["record"]: r["expr"] for r in groups["slagate-demo-recording"]}
    assert records["slagate:latency_p99:5m"] == (
        'histogram_quantile(0.99, sum by (le) (rate(slagate_demo_request_duration_seconds_bucket{job="demo"}[5m])))'
    )


def test_relative_limits_come_from_the_baseline_figure() -> None:
    spec = load_spec(ROOT / "sla.toml")
    gates = {g.name: g for g in spec.gates}
    assert relative_limit(gates["p99 latency"], CheckKind.MAX_REGRESSION, 0.1) == pytest.approx(0.115)
    found = criteria(spec.gates, {"latency_p99": BaselineFigure(0.1, "1.0.0")})
    relative = [c for c in found if c.relative]
    assert [c.limit for c in relative if c.gate.metric.name == "latency_p99"] == [pytest.approx(0.115)]
    assert all(c.limit is None for c in relative if c.gate.metric.name != "latency_p99")


def test_success_rate_regression_is_a_difference_in_points(tmp_path: Path) -> None:
    gate = '[[gates]]\nname = "ok"\nmetric = "success_rate"\nmax_regression = "0.5%"\n'
    spec = load_spec(write_spec(tmp_path, extra=gate))
    ok = next(g for g in spec.gates if g.name == "ok")
    assert relative_limit(ok, CheckKind.MAX_REGRESSION, 0.999) == pytest.approx(0.994)


def test_without_a_baseline_a_relative_bound_is_named_not_silently_dropped(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, extra='[[gates]]\nname = "p95"\nmetric = "latency_p95"\nmax_regression = "10%"\n')
    result = CliRunner().invoke(main, ["rules", "--spec", str(spec)])
    assert result.exit_code == 0
    assert "gate 'p95' max_regression has no baseline figure" in result.output
    assert "SlagateSvcP95Regression" not in result.output


def test_tests_need_an_output_file_and_bad_rules_keys_are_one_line(tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    result = CliRunner().invoke(main, ["rules", "--spec", str(spec), "--tests", str(tmp_path / "t.yml")])
    assert result.exit_code == 2 and "--tests: expected -o/--output" in result.output
    bad = write_spec(tmp_path, extra='[rules]\nwindw = "5m"\n')
    result = CliRunner().invoke(main, ["rules", "--spec", str(bad)])
    assert result.exit_code == 2 and "rules.windw" in result.output and "did you mean 'window'" in result.output
    assert "Traceback" not in result.output


def test_selector_labels_for_synthetic_series() -> None:
    assert selector_labels('job="api", env=~"prod|staging", pod!="x"') == {"job": "api", "env": "prod"}
    assert selector_labels('job=~"api-.+"') == {"job": "api-.+"}  # the pattern matches itself
    for refused in ('job=~"api-[0-9]+"', 'pod!=""'):
        with pytest.raises(Untestable):
            selector_labels(refused)


def test_durations_round_trip() -> None:
    for seconds, text in ((300, "5m"), (1.5, "1500ms"), (3600, "1h"), (30, "30s")):
        assert live_promql.duration(seconds) == text and live_promql.seconds(text) == seconds


def test_annotations_name_the_run_and_its_verdict(tmp_path: Path) -> None:
    from tests.unit.test_pipeline_stages import judged_run

    (tmp_path / "judged").mkdir()
    outcome, verdict = judged_run(tmp_path / "judged")
    spec = demo_spec(tmp_path)
    result = CliRunner().invoke(main, ["rules", "--spec", str(spec), "--run", str(outcome.run_dir)])
    assert result.exit_code == 0, result.output
    alerts = [r for g in yaml.safe_load(result.stdout.split("\n", 1)[1])["groups"] for r in g["rules"] if "alert" in r]
    shown = f"slagate run {outcome.run_dir.name} (verdict {verdict['decision']})"
    assert alerts and all(shown in a["annotations"]["description"] for a in alerts)


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ('window = "0s"', "rules.window"),
        ('for = "soon"', "rules.for"),
        ('[rules.slo]\nobjective = "100%"', "rules.slo.objective"),
    ],
)
def test_bad_rules_keys_are_one_line_naming_the_key(tmp_path: Path, table: str, key: str) -> None:
    spec = write_spec(tmp_path, extra=f"[rules]\n{table}\n")
    result = CliRunner().invoke(main, ["rules", "--spec", str(spec)])
    assert result.exit_code == 2 and key in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


INJECTING_GATE = """
[[gates]]
name = 'p99 {{ printf "INJECTED-%d" 42 }} {{7*7}}'
metric = "latency_p99"
max = "250ms"
"""


@needs_promtool
def test_a_gate_name_is_never_evaluated_as_a_template(tmp_path: Path) -> None:
    rules, tests, _ = write_rules(demo_spec(tmp_path, extra=INJECTING_GATE), tmp_path)
    text = rules.read_text()
    assert '{{"{{"}} printf "INJECTED-%d" 42 }}' in text and "{{ printf" not in text
    checked = promtool("check", "rules", str(rules))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool("test", "rules", str(tests))  # the tests expect the name rendered exactly as written
    assert tested.returncode == 0 and "SUCCESS" in tested.stdout, tested.stdout + tested.stderr


@needs_promtool
def test_max_drift_is_an_alert_from_the_pinned_reference_beside_the_per_release_one(tmp_path: Path) -> None:
    rules, tests, _ = write_rules(pin_reference(demo_spec(tmp_path), "1.1.0"), tmp_path)
    alerts = {r["alert"]: r for g in yaml.safe_load(rules.read_text())["groups"] for r in g["rules"] if "alert" in r}
    p99 = {v: baseline_figures(load_baseline(ROOT / f"baselines/demo/{v}.json"))["latency_p99"].estimate
           for v in ("1.0.0", "1.1.0")}  # fmt: skip
    drift, regression = alerts["SlagateDemoP99LatencyDrift"], alerts["SlagateDemoP99LatencyRegression"]
    assert float(drift["expr"].rsplit(" > ", 1)[1]) == pytest.approx(p99["1.0.0"] * 1.25)
    assert float(regression["expr"].rsplit(" > ", 1)[1]) == pytest.approx(p99["1.1.0"] * 1.15)
    assert drift["annotations"]["reference_version"] == "1.0.0" and drift["labels"]["slagate_bound"] == "max_drift"
    assert regression["annotations"]["baseline_version"] == "1.1.0"
    assert "reference 1.0.0" in drift["annotations"]["summary"] and "+25 %" in drift["annotations"]["summary"]
    assert promtool("check", "rules", str(rules)).returncode == 0
    tested = promtool("test", "rules", str(tests))
    assert tested.returncode == 0 and "SUCCESS" in tested.stdout, tested.stdout + tested.stderr
    assert "breach: SlagateDemoP99LatencyDrift fires" in tests.read_text()
