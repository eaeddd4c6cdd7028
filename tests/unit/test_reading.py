"""The spec's reading checked against Prometheus's metadata and series, served by a local HTTP server from
answers in the shape Prometheus gives (written for these tests, not captured from a live server)."""

import time

from tests.unit.answering_prometheus import Rule, answering
from validator.prometheus.client import PrometheusClient
from validator.prometheus.reading import read_service
from validator.spec import GateSpec
from validator.spec.metrics import BUILTIN_METRICS
from validator.spec.prometheus import PrometheusSpec

SUCCESS_GATE = GateSpec(name="success rate", metric=BUILTIN_METRICS["success_rate"], severity="critical", min=0.99)


def data(value) -> dict:
    return {"status": "success", "data": value}


def read(rules: list[Rule], gates=(SUCCESS_GATE,), **spec):
    with answering(rules) as server:
        prometheus = PrometheusSpec(server.url, **({"latency_histogram": "http_duration_seconds",
                                                    "request_counter": "http_requests_total", "selector": 'job="api"',
                                                    "retry_deadline": 1.0} | spec))
        return read_service(PrometheusClient(prometheus, {}), prometheus, gates, time.time())


METADATA = Rule("/api/v1/metadata", data({"http_duration_seconds": [{"type": "histogram"}],
                                          "http_requests_total": [{"type": "counter"}],
                                          "grpc_latency_seconds": [{"type": "histogram"}]}))
BUCKETS = Rule(r"http_duration_seconds_bucket", data([{"__name__": "http_duration_seconds_bucket", "job": "api",
                                                       "le": le} for le in ("0.1", "0.5", "+Inf")]))


def counter(*values: str, label: str = "code") -> Rule:
    return Rule(r"^http_requests_total", data([{"__name__": "http_requests_total", "job": "api", label: v}
                                               for v in values]))


def test_a_true_reading_has_no_problem_and_lists_what_prometheus_has():
    reading = read([METADATA, BUCKETS, Rule(r'code=~"5\.\."', data([{"code": "503"}])), counter("200", "503")])
    assert reading.problems == []
    assert reading.facts["histogram"] == {"kind": "classic", "series": 3, "bounds": [0.1, 0.5, float("inf")]}
    assert reading.facts["error_label"]["matched"] == ["503"]
    assert any('`code` takes 200, 503; error_regex "5.." counts 503 as errors' in f.text for f in reading.findings)


def test_a_native_only_histogram_is_named():
    native = Rule(r'^http_duration_seconds\{', data([{"__name__": "http_duration_seconds", "job": "api"}]))
    reading = read([METADATA, Rule(r"_bucket", data([])), native, counter("200")])
    (problem,) = reading.problems
    assert problem.key == "prometheus.histogram" and problem.text == (
        "http_duration_seconds has series under the selector but no http_duration_seconds_bucket: Prometheus keeps "
        'it as a native histogram only; set prometheus.histogram = "native"')
    native_spec = read([METADATA, Rule(r"_bucket", data([])), native, counter("200")], histogram="native")
    assert native_spec.problems == [] and native_spec.facts["histogram"] == {"kind": "native", "series": 1}
    (classic,) = read([METADATA, BUCKETS, Rule(r"^http_duration", data([])), counter("200")],
                      histogram="native").problems
    assert classic.key == "prometheus.histogram" and 'set prometheus.histogram = "classic"' in classic.text


def test_a_summary_is_not_a_histogram():
    metadata = Rule("/api/v1/metadata", data({"http_duration_seconds": [{"type": "summary"}]}))
    (problem,) = read([metadata, BUCKETS, counter("200")]).problems
    assert problem.text == "http_duration_seconds is a summary, not a histogram: slagate reads histogram buckets"


def test_an_unknown_name_lists_the_histograms_prometheus_has_and_waits_for_traffic():
    reading = read([METADATA, Rule(r"_bucket|^http_duration", data([])), counter("200")],
                   latency_histogram="http_duration_secs")
    assert reading.problems == []  # a labelled histogram has no series, nor metadata, before its first request
    assert any(f.text == "Prometheus knows no metric named http_duration_secs yet (a typo, or no request served "
               "yet; checked again after the load); histograms Prometheus has: grpc_latency_seconds, "
               "http_duration_seconds" for f in reading.findings)


def test_a_gauge_is_not_a_request_counter():
    metadata = Rule("/api/v1/metadata", data({"http_duration_seconds": [{"type": "histogram"}],
                                              "http_requests_total": [{"type": "gauge"}]}))
    (problem,) = read([metadata, BUCKETS, counter("200")]).problems
    assert problem.key == "prometheus.request_counter" and "a gauge: expected a counter" in problem.text


def test_grouped_status_classes_are_read_in_their_own_style():
    rules = [METADATA, BUCKETS, Rule(r'code=~"5\.\."', data([{"code": "5xx"}])), Rule(r'code=~"50\."', data([])),
             counter("2xx", "5xx")]
    assert read(rules).problems == []
    (problem,) = read(rules, error_regex="50.").problems
    assert 'error_regex "50." matches no server error in the style of the values `code` takes (2xx, 5xx)' in \
        problem.text and '(e.g. "5xx")' in problem.text


def test_a_missing_error_label_refutes_only_a_server_success_rate():
    rules = [METADATA, BUCKETS, counter("GET", label="method")]
    (problem,) = read(rules).problems
    assert problem.text == ('http_requests_total has no label `code`: the server cannot show errors; judge success '
                            'rate with source = "client"')
    client_gate = GateSpec(name="success", metric=BUILTIN_METRICS["success_rate"], severity="critical", min=0.99,
                           source="client")
    assert read(rules, gates=(client_gate,)).problems == []


def test_no_series_yet_is_decided_after_the_load():
    empty = Rule(r"_bucket|^http_", data([]))
    reading = read([METADATA, empty])
    assert reading.problems == []
    assert any("checked again after the load" in f.text for f in reading.findings)


def test_a_proxy_that_refuses_the_metadata_endpoint_leaves_types_unchecked():
    refused = Rule("/api/v1/metadata", {"status": "error", "error": "forbidden"}, status=403)
    reading = read([refused, BUCKETS, Rule(r'code=~"5\.\."', data([{"code": "503"}])), counter("200", "503")])
    assert reading.problems == [] and reading.facts["metadata_checked"] is False
