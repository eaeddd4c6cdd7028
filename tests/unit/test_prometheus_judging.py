"""What the server's buckets, the client's histograms and the scope facts let a gate say: coarse buckets as a
plain-words WARN with recommended boundaries, source = client / both, the client-vs-server resolution limit,
scope warnings, PromQL quoting and secret redaction."""

import pytest

from tests.unit.test_checks import closed_load
from validator.evidence import Measurement, QuantileEvidence
from validator.judge.gates import Status, evaluate_gate, judge_gate
from validator.judge.resolution import recommend
from validator.load.recorder import RequestRecorder
from validator.load.result import LoadResult
from validator.measure.checks import ServerQuantile, check_run
from validator.measure.client_figures import client_key, client_measurements, histogram_evidence
from validator.measure.scope_checks import scope_findings
from validator.redact import redact, redact_url
from validator.spec import GateSpec
from validator.spec.metrics import BUILTIN_METRICS
from validator.spec.promql import matcher, quote

INSTRUMENTATOR = (0.1, 0.5, 1.0, float("inf"))  # prometheus-fastapi-instrumentator's default buckets


def p99_gate(**changes) -> GateSpec:
    return GateSpec(**({"name": "p99", "metric": BUILTIN_METRICS["latency_p99"], "severity": "critical"} | changes))


def coarse(counts=(9000, 10000, 10000, 10000)) -> Measurement:
    return Measurement("latency_p99", "PromQL `x`", QuantileEvidence(0.99, INSTRUMENTATOR, counts))


def test_a_bound_inside_the_quantiles_bucket_is_warn_with_the_bucket_and_boundaries() -> None:
    result = evaluate_gate(p99_gate(max=0.25), coarse(), None, 0.95)
    assert result.status == Status.WARN
    assert "coarse buckets" in result.reason and "100 ms–500 ms" in result.reason and "250 ms" in result.reason
    assert result.resolution is not None and 0.25 in result.resolution.recommended
    assert all(0.1 < b < 0.5 for b in result.resolution.recommended)


def test_a_bound_outside_the_bucket_is_decided() -> None:
    assert evaluate_gate(p99_gate(max=0.6), coarse(), None, 0.95).status == Status.PASS
    assert evaluate_gate(p99_gate(max=0.05), coarse(), None, 0.95).status == Status.FAIL


def test_a_regression_tolerance_narrower_than_the_bucket_cannot_pass() -> None:
    same = coarse()
    result = evaluate_gate(p99_gate(max_regression=0.15), same, same, 0.95, "baseline 1.0")
    assert result.status == Status.WARN and "wider than the tolerated 15 % change" in result.reason


def test_source_client_judges_the_client_and_keeps_the_server_beside() -> None:
    load = closed_load(latency_ms=150.0)
    gate = p99_gate(max=0.25, source="client")
    measurements = {"latency_p99": coarse(), **client_measurements(load, [gate])}
    result = judge_gate(gate, measurements, None, 0.95)
    assert result.side == "client" and result.status == Status.PASS and result.reason.startswith("client: ")
    assert result.beside is not None and result.beside.status == Status.WARN
    both = judge_gate(p99_gate(max=0.25, source="both"), measurements | {client_key(p99_gate(source="both")):
                                                                        measurements[client_key(gate)]}, None, 0.95)
    assert both.status == Status.WARN and both.side == "server"


def test_the_client_histogram_as_buckets_keeps_its_resolution() -> None:
    load = closed_load(latency_ms=150.0)
    evidence = histogram_evidence(load.steady_timeline().combined(), 0.99)
    assert evidence.estimate() == pytest.approx(0.150, rel=0.02)


def test_client_and_server_apart_inside_one_bucket_is_a_resolution_limit_not_a_warning() -> None:
    load = closed_load(latency_ms=150.0)
    inside = {q: ServerQuantile(0.45, 0.1, 0.5) for q in (0.5, 0.95, 0.99)}
    checks = check_run(load, inside, 2.0)
    assert not checks.warnings and any("resolution limit" in note for note in checks.notes)
    assert all(row["resolution_limit"] and not row["flagged"] for row in checks.comparison)
    outside = {q: ServerQuantile(0.9, 0.5, 1.0) for q in (0.5, 0.95, 0.99)}
    assert any("differ by more than" in w for w in check_run(load, outside, 2.0).warnings)


def test_a_bimodal_split_at_a_coarse_bucket_edge_is_a_resolution_limit_not_a_warning() -> None:
    """Half the requests at 30 ms and half at 155 ms (FastAPI's instrumentator, buckets 0.1, 0.5, 1): the client's
    p50 is 30 ms, while the server, whose count below 100 ms is a hair short of half, interpolates 102 ms in
    (100 ms, 500 ms]. Neither is wrong; 80 % below the edge would be."""
    def load(fast_share: float):
        recorder = RequestRecorder(1000.0, clock=lambda: 1005.0)
        for i in range(1000):
            recorder("GET", "/", 30.0 if i < fast_share * 1000 else 155.0)
        capture = recorder.drain()
        return LoadResult.from_capture(capture, window_start=1000.0, window_end=1010.0,
                                       profile={"model": "closed", "users": 1, "mean_wait_s": None}, generator={})
    server = {0.5: ServerQuantile(0.102, 0.1, 0.5)}
    split = check_run(load(0.505), server, 2.0)
    assert not split.warnings and any("resolution limit" in note for note in split.notes), split.warnings
    assert any("differ by more than" in w for w in check_run(load(0.80), server, 2.0).warnings)


def test_scope_findings() -> None:
    facts = {"counter": "c", "selector": 'job="api"', "series": 3, "targets": [["api", "a:1"], ["api", "b:1"]],
             "appeared": [["api", "b:1"]], "vanished": [], "targets_down": [["api", "a:1"]], "samples_min": 1.0,
             "samples_expected": 20.0, "errors": []}
    warnings, notes = scope_findings(facts)
    assert any("2 targets (api/a:1, api/b:1)" in n for n in notes)
    assert any("appeared inside the window (api/b:1)" in w for w in warnings)
    assert any("up was 0" in w for w in warnings) and any("1 samples" in w for w in warnings)
    assert any("matches no series" in w for w in scope_findings(facts | {"series": 0})[0])

    def gap(samples: float, expected: float) -> bool:
        facts = {"counter": "c", "series": 1, "samples_min": samples, "samples_expected": expected}
        return any("scrape gap" in warning for warning in scope_findings(facts)[0])

    assert gap(5.0, 10.0) and not gap(8.0, 10.0)  # 5 s missing of 10 (a restarted Prometheus) is named
    assert gap(14.0, 20.0) and not gap(15.0, 20.0)  # a quarter of the scrapes may go missing, not more
    assert not gap(2.0, 4.0) and gap(1.0, 4.0)  # a short window: up to 2 missed scrapes are edges and jitter


def test_promql_values_are_quoted_and_label_names_checked() -> None:
    assert quote('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'
    assert matcher("handler", "=", '/x"}or vector(1)') == 'handler="/x\\"}or vector(1)"'
    with pytest.raises(ValueError):
        matcher('code"}', "=~", "5..")


def test_redaction() -> None:
    assert redact_url("https://bob:pw@host:9090/p?q=1") == "https://***@host:9090/p?q=1"
    assert redact("failed at http://u:p%40ss@h/x with token tok-1234", ["tok-1234", "p@ss"]) == \
        "failed at http://***@h/x with token ***"
    assert recommend(0.1, 0.5, 0.25) == (0.188, 0.207, 0.227, 0.25, 0.275, 0.303, 0.333)


def test_coarse_buckets_are_observed_only_for_gates_judged_on_the_servers_figure() -> None:
    from validator.judge.observations import _coarse_buckets
    from validator.measure.record import MetricsRecord
    from validator.prometheus import Window

    load = closed_load(latency_ms=150.0)
    metrics = MetricsRecord("http://prometheus", Window(0.0, 10.0), {"latency_p99": coarse()})
    for source, observed in (("server", True), ("client", False)):
        gate = p99_gate(max=1.0, source=source)
        result = judge_gate(gate, {"latency_p99": coarse(), **client_measurements(load, [gate])}, None, 0.95)
        assert bool(_coarse_buckets([result], metrics)) is observed, source
