"""Gates judged on intervals and the decision matrix, including every fail-closed path."""

import math

import pytest

from validator.evidence import Measurement, ProportionEvidence, ScalarEvidence
from validator.judge.gates import Status, evaluate_gate, judge_bound
from validator.judge.verdict import Decision, ExitCode, decide
from validator.spec import GateSpec
from validator.spec.metrics import BUILTIN_METRICS, custom_metric
from validator.stats.intervals import Interval, Method, MethodKind


def interval(low: float, high: float) -> Interval:
    return Interval((low + high) / 2, low, high, 0.9, Method(MethodKind.EXACT))


@pytest.mark.parametrize(
    ("low", "high", "upper", "expected"),
    [
        (0.1, 0.2, True, Status.PASS),
        (0.1, 0.3, True, Status.WARN),
        (0.26, 0.3, True, Status.FAIL),
        (0.26, 0.3, False, Status.PASS),
        (0.2, 0.3, False, Status.WARN),
        (0.1, 0.2, False, Status.FAIL),
        (math.nan, 0.2, True, Status.NO_DATA),
    ],
)
def test_judge_bound_uses_the_whole_interval(low: float, high: float, upper: bool, expected: Status) -> None:
    assert judge_bound(interval(low, high), 0.25, upper=upper) == expected


def gate(metric: str = "success_rate", severity: str = "critical", **bounds: float) -> GateSpec:
    return GateSpec(name=metric, metric=BUILTIN_METRICS[metric], severity=severity, **bounds)


def test_missing_measurement_is_no_data_with_the_reason() -> None:
    result = evaluate_gate(
        gate(min=0.99), Measurement("success_rate", "q", None, "the query returned no series"), None, 0.95
    )
    assert result.status == Status.NO_DATA
    assert "no series" in result.reason


def test_nan_measurement_is_no_data() -> None:
    result = evaluate_gate(gate(min=0.99), Measurement("success_rate", "q", ProportionEvidence(0, 0)), None, 0.95)
    assert result.status == Status.NO_DATA


def test_regression_gate_without_baseline_is_no_data() -> None:
    measurement = Measurement("success_rate", "q", ProportionEvidence(990, 1000))
    result = evaluate_gate(gate(max_regression=0.01), measurement, None, 0.95)
    assert result.status == Status.NO_DATA and "baseline" in result.reason


def test_success_rate_difference_against_baseline() -> None:
    candidate = Measurement("success_rate", "q", ProportionEvidence(9_000, 10_000))
    baseline = Measurement("success_rate", "q", ProportionEvidence(9_990, 10_000))
    result = evaluate_gate(gate(max_regression=0.01), candidate, baseline, 0.95)
    assert result.status == Status.FAIL
    assert result.change is not None and result.change.kind == "difference"
    assert result.change.interval.high < -0.01


def test_each_bound_is_judged_on_its_one_sided_bound() -> None:
    # 9,940 of 10,000: the two-sided 95 % Wilson interval reaches below 99.25 %, the 90 % one (one-sided 95 %) not
    measurement = Measurement("success_rate", "q", ProportionEvidence(9_940, 10_000))
    result = evaluate_gate(gate(min=0.9925), measurement, None, 0.95)
    assert result.status == Status.PASS
    assert result.value is not None and result.value.low >= 0.9925
    assert evaluate_gate(gate(min=0.9925), measurement, None, 0.975).status == Status.WARN


def test_zero_failures_pass_a_min_bound_with_a_real_interval() -> None:
    result = evaluate_gate(gate(min=0.99), Measurement("success_rate", "q", ProportionEvidence(5000, 5000)), None, 0.95)
    assert result.status == Status.PASS
    assert result.value is not None and result.value.low < 1.0


def test_custom_scalar_gate_direction() -> None:
    spec = GateSpec(name="queue", metric=custom_metric("queue", higher_is_better=False), severity="warning", max=10.0)
    assert evaluate_gate(spec, Measurement("queue", "q", ScalarEvidence(12.0)), None, 0.95).status == Status.FAIL
    assert evaluate_gate(spec, Measurement("queue", "q", ScalarEvidence(3.0)), None, 0.95).status == Status.PASS


def result_with(status: Status, severity: str):
    measurement = {
        Status.PASS: ProportionEvidence(1000, 1000),
        Status.FAIL: ProportionEvidence(500, 1000),
        Status.WARN: ProportionEvidence(990, 1000),
        Status.NO_DATA: None,
    }[status]
    result = evaluate_gate(gate(min=0.99, severity=severity), Measurement("success_rate", "q", measurement), None, 0.95)
    assert result.status == status
    return result


@pytest.mark.parametrize(
    ("statuses", "decision", "code"),
    [
        ([(Status.PASS, "critical"), (Status.PASS, "warning")], Decision.GO, ExitCode.GO),
        ([(Status.PASS, "critical"), (Status.FAIL, "warning")], Decision.CAUTION, ExitCode.CAUTION),
        ([(Status.WARN, "critical"), (Status.PASS, "warning")], Decision.CAUTION, ExitCode.CAUTION),
        ([(Status.PASS, "critical"), (Status.NO_DATA, "warning")], Decision.CAUTION, ExitCode.CAUTION),
        ([(Status.FAIL, "critical"), (Status.PASS, "warning")], Decision.NO_GO, ExitCode.NO_GO),
        ([(Status.NO_DATA, "critical"), (Status.PASS, "warning")], Decision.NO_GO, ExitCode.NO_GO),
    ],
)
def test_decision_matrix(statuses, decision: Decision, code: int) -> None:
    verdict = decide([result_with(status, severity) for status, severity in statuses])
    assert verdict.decision == decision
    assert verdict.exit_code() == code
    assert bool(verdict.rollout.steps) == (decision != Decision.NO_GO)


def test_could_not_evaluate_is_no_go_with_exit_4_even_if_gates_pass() -> None:
    verdict = decide([result_with(Status.PASS, "critical")], could_not_evaluate="Prometheus unreachable")
    assert verdict.decision == Decision.NO_GO
    assert verdict.exit_code() == ExitCode.COULD_NOT_EVALUATE


def test_no_gates_is_never_go() -> None:
    assert decide([]).decision == Decision.NO_GO


def test_caution_exit_code_is_configurable() -> None:
    verdict = decide([result_with(Status.WARN, "critical")])
    assert verdict.exit_code(caution_exit_code=0) == 0
    assert verdict.rollout.steps == (1, 5, 25, 50, 100)


def test_max_drift_judges_the_pinned_reference_beside_the_per_release_baseline() -> None:
    """+5 % a release passes a 15 % per-release tolerance, yet is far beyond a 20 % drift since the reference."""
    from validator.evidence import RateEvidence
    from validator.judge.gates import CheckKind

    gate = GateSpec("throughput", BUILTIN_METRICS["throughput"], "critical", max_regression=0.15, max_drift=0.20)
    candidate = Measurement("throughput", "q", RateEvidence(60_000, 600.0))  # 100 req/s
    baseline = Measurement("throughput", "q", RateEvidence(63_000, 600.0))  # 105 req/s: −5 %
    reference = Measurement("throughput", "q", RateEvidence(90_000, 600.0))  # 150 req/s: −33 %
    result = evaluate_gate(gate, candidate, baseline, 0.95, "demo 1.4.0", reference=reference,
                           reference_label="demo 1.0.0")
    checks = {check.kind: check for check in result.checks}
    assert checks[CheckKind.MAX_REGRESSION].status == Status.PASS
    drift = checks[CheckKind.MAX_DRIFT]
    assert drift.status == Status.FAIL and drift.bound == "−20 % vs reference" and "demo 1.0.0" in drift.reason
    assert result.status == Status.FAIL
    missing = evaluate_gate(gate, candidate, baseline, 0.95, "demo 1.4.0")
    assert {c.kind: c.status for c in missing.checks}[CheckKind.MAX_DRIFT] == Status.NO_DATA
