"""The analysis in words: a sentence per gate from its values, observations and the recommendations they call for."""

from validator.evidence import Change
from validator.judge.gates import Check, CheckKind, GateResult, Status
from validator.judge.judgement import ShapeObservation
from validator.judge.observations import Observation
from validator.report.analysis import gate_sentence, observation_sentence, recommendations
from validator.spec import GateSpec
from validator.spec.metrics import BUILTIN_METRICS
from validator.stats.intervals import Interval, Method, MethodKind

METHOD = Method(MethodKind.EXACT)


def interval(estimate: float, low: float, high: float) -> Interval:
    return Interval(estimate, low, high, 0.9, METHOD)


def p99_result(status: Status, ratio: Interval) -> GateResult:
    gate = GateSpec("p99 latency", BUILTIN_METRICS["latency_p99"], "critical", max=0.25, max_regression=0.15)
    checks = (Check(CheckKind.MAX, "≤ 250 ms", Status.PASS, "ok"),
              Check(CheckKind.MAX_REGRESSION, "+15 % vs baseline", status, "ratio vs baseline"))
    return GateResult(
        gate,
        status,
        "ratio vs baseline",
        "q",
        interval(0.08, 0.075, 0.085),
        interval(0.07, 0.069, 0.071),
        Change("ratio", ratio),
        checks,
    )


def test_tail_regression_sentence_names_the_median() -> None:
    ratios = tuple(interval(*r) for r in [(1.0, 0.98, 1.02)] * 4 + [(1.12, 1.04, 1.21)] * 2)
    shape = ShapeObservation((0.5, 0.75, 0.9, 0.95, 0.99, 0.999), ratios, (0.99, 0.999))
    sentence = gate_sentence(p99_result(Status.WARN, interval(1.12, 1.04, 1.21)), shape, "1.0.0")
    assert "rose +12.0 % [+4.0 %, +21.0 %] against baseline 1.0.0" in sentence
    assert "while p50 is unchanged: a tail regression, not a general slowdown" in sentence
    assert "WARN" in sentence and "Deciding check" in sentence


def test_a_passing_gate_gets_its_sentence_too() -> None:
    sentence = gate_sentence(p99_result(Status.PASS, interval(0.99, 0.97, 1.01)), None, "1.0.0")
    assert "is unchanged within its interval (-1.0 % [-3.0 %, +1.0 %])" in sentence and "PASS" in sentence


def test_observations_carry_figure_and_source_and_lead_to_recommendations() -> None:
    burst = Observation("error_burst", {"start_s": 14, "end_s": 17, "share": 0.9, "failures": 120}, "load.json")
    route = Observation("errors_in_one_endpoint", {"endpoint": "GET /x|`y`", "share": 0.95}, "load.json")
    lines = [observation_sentence(o) for o in (burst, route)]
    assert "90 % of the 120 steady-window failures fell between 00:14 and 00:17" in lines[0]
    assert lines[0].endswith("(source: load.json).")
    assert "`` GET /x\\|`y` ``" in lines[1]
    advice = recommendations([burst, route], [])
    assert "between 00:14 and 00:17" in advice[0] and "GET /x" in advice[1]


def test_nothing_to_observe_and_all_pass_recommends_nothing() -> None:
    assert recommendations([], [p99_result(Status.PASS, interval(1.0, 0.98, 1.02))]) == []
