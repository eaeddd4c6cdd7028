"""Rollout plans and waivers from the spec, and the decision matrix with this run's row."""

import datetime

import pytest

from tests.conftest import write_spec
from validator.judge.gates import GateResult, Status
from validator.judge.verdict import Decision, WaiverState, decide
from validator.report.decision import hold_text, matrix_rows, plan_line, stage_rows, waiver_rows
from validator.spec import GateSpec, SpecError, Waiver, load_spec
from validator.spec.metrics import BUILTIN_METRICS
from validator.spec.rollout import DEFAULT_PLANS

TODAY = datetime.date(2026, 12, 2)
GATES = """
[[gates]]
name = "throughput"
metric = "throughput"
severity = "warning"
min = "100/s"
"""


def result(name: str, status: Status, severity: str = "critical") -> GateResult:
    gate = GateSpec(name, BUILTIN_METRICS["throughput"], severity, min=100.0)
    return GateResult(gate, status, f"{name} is {status}", "q")


def waiver(gate: str = "throughput", expires: datetime.date = datetime.date(2027, 1, 31)) -> Waiver:
    return Waiver(gate, "testnet: low traffic expected", "Jane Doe (release manager)", expires)


def test_default_plans_are_the_documented_ones() -> None:
    assert DEFAULT_PLANS["standard"].steps == (5, 25, 50, 100)
    assert {s.hold_s for s in DEFAULT_PLANS["standard"].stages} == {3600}
    assert DEFAULT_PLANS["slow"].steps == (1, 5, 25, 50, 100)
    assert {s.hold_s for s in DEFAULT_PLANS["slow"].stages} == {4 * 3600}
    assert DEFAULT_PLANS["very_slow"].steps[0] == 1 and DEFAULT_PLANS["very_slow"].steps[-1] == 100


def test_spec_plans_replace_the_defaults(tmp_path) -> None:
    extra = """
[rollout]
caution = "very_slow"
[rollout.standard]
stages = ["10%", {traffic = "50%", hold = "30m", decides = "SRE on call"}, "100%"]
hold = "2h"
decides = "release manager"
[rollout.very_slow]
hold = "24h"
"""
    spec = load_spec(write_spec(tmp_path, extra=extra))
    standard = spec.rollout.plan_for("GO")
    assert standard.steps == (10, 50, 100)
    assert [s.hold_s for s in standard.stages] == [7200, 1800, 7200]
    assert [s.decides for s in standard.stages] == ["release manager", "SRE on call", "release manager"]
    caution = spec.rollout.plan_for("CAUTION")
    assert caution.name == "very_slow" and {s.hold_s for s in caution.stages} == {86400}
    assert spec.rollout.plan_for("NO-GO").stages == ()


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ('[rollout.standard]\nstages = ["50%", "25%", "100%"]', "rollout.standard.stages"),
        ('[rollout.standard]\nstages = ["5%", "50%"]', "rollout.standard.stages"),
        ('[rollout.standard]\nstages = ["0%", "100%"]', "rollout.standard.stages[0].traffic"),
        ("[rollout.fast]\nhold = '1h'", "rollout.fast"),
        ('[rollout]\ncaution = "slowest"', "rollout.caution"),
        ('[rollout.slow]\nhold = "-1h"', "rollout.slow.hold"),
    ],
)
def test_bad_rollout_is_one_line_naming_the_key(tmp_path, extra: str, key: str) -> None:
    with pytest.raises(SpecError) as error:
        load_spec(write_spec(tmp_path, extra=extra))
    assert f": {key}:" in str(error.value) and "\n" not in str(error.value)


def test_waivers_are_read_and_only_warning_gates_can_be_waived(tmp_path) -> None:
    extra = GATES + """
[[waivers]]
gate = "throughput"
reason = "testnet"
approved_by = "Jane"
expires = 2027-01-31
"""
    spec = load_spec(write_spec(tmp_path, extra=extra))
    assert spec.waivers == (Waiver("throughput", "testnet", "Jane", datetime.date(2027, 1, 31)),)
    critical = extra.replace('gate = "throughput"', 'gate = "latency_p99"')
    with pytest.raises(SpecError, match=r"waivers\[0\]\.gate: expected a warning gate \(a critical gate cannot"):
        load_spec(write_spec(tmp_path, extra=critical))
    unknown = extra.replace('gate = "throughput"', 'gate = "thruput"')
    with pytest.raises(SpecError, match=r"waivers\[0\]\.gate: expected the name of a gate"):
        load_spec(write_spec(tmp_path, extra=unknown))
    bad_date = extra.replace("2027-01-31", '"next year"')
    with pytest.raises(SpecError, match=r"waivers\[0\]\.expires"):
        load_spec(write_spec(tmp_path, extra=bad_date))


def test_a_waived_short_warning_gate_keeps_go_and_is_listed() -> None:
    results = [result("p99", Status.PASS), result("throughput", Status.FAIL, "warning")]
    verdict = decide(results, waivers=[waiver()], today=TODAY)
    assert verdict.decision == Decision.GO and verdict.rollout.name == "standard"
    assert verdict.waivers[0].state == WaiverState.APPLIED
    assert "waiver" in verdict.reasons[0]
    row = waiver_rows(verdict)[0]
    assert row["status"] == "FAIL" and "applied" in row["effect"] and row["expires"] == "2027-01-31"


def test_an_expired_waiver_is_ignored() -> None:
    results = [result("p99", Status.PASS), result("throughput", Status.FAIL, "warning")]
    verdict = decide(results, waivers=[waiver(expires=datetime.date(2026, 12, 1))], today=TODAY)
    assert verdict.decision == Decision.CAUTION and verdict.rollout.name == "slow"
    assert verdict.waivers[0].state == WaiverState.EXPIRED


def test_a_waiver_never_lifts_a_critical_failure() -> None:
    results = [result("throughput", Status.FAIL, "critical")]
    verdict = decide(results, waivers=[waiver()], today=TODAY)
    assert verdict.decision == Decision.NO_GO and verdict.rollout.stages == ()


@pytest.mark.parametrize(
    ("statuses", "chosen", "named"),
    [
        ([("a", Status.PASS, "critical"), ("b", Status.PASS, "warning")], "GO", "a, b"),
        ([("a", Status.WARN, "critical"), ("b", Status.PASS, "warning")], "CAUTION", "a"),
        ([("a", Status.PASS, "critical"), ("b", Status.NO_DATA, "warning")], "CAUTION", "b"),
        ([("a", Status.NO_DATA, "critical"), ("b", Status.FAIL, "warning")], "NO-GO", "a"),
    ],
)
def test_matrix_marks_this_runs_row_and_names_its_gates(statuses, chosen: str, named: str) -> None:
    verdict = decide([result(*s) for s in statuses])
    rows = matrix_rows(verdict)
    marked = [row for row in rows if row["mark"]]
    assert len(marked) == 1 and marked[0]["decision"] == f"**{chosen}**"
    assert marked[0]["gates"] == named


def test_stage_table_and_plan_line() -> None:
    verdict = decide([result("p99", Status.PASS), result("throughput", Status.WARN, "warning")])
    rows = stage_rows(verdict, [result("throughput", Status.WARN, "warning")])
    assert [r["traffic"] for r in rows] == ["1 %", "5 %", "25 %", "50 %", "100 %"]
    assert rows[0]["hold"] == "4 h" and "closely: throughput (WARN)" in rows[0]["watch"]
    assert rows[0]["decides"] == "release manager"
    assert plan_line(verdict).startswith("slow: 1 % → 5 % → 25 % → 50 % → 100 %, 4 h holds — ")
    assert hold_text(90 * 60) == "1 h 30 min" and hold_text(86400) == "1 d" and hold_text(0) == "none"
