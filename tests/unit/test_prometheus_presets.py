"""Presets against answers in the shape Prometheus gives for each library (fixtures/prometheus/*.json, labelled
as such: shapes and default buckets of Micrometer, Istio, ingress-nginx and OpenTelemetry, counts illustrative),
served by a real local HTTP server to the real client; and presets in the spec."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import write_spec
from tests.unit.answering_prometheus import Rule, answering, success
from validator.evidence import ProportionEvidence, QuantileEvidence
from validator.prometheus import PrometheusSource, Window
from validator.spec import SpecError, load_spec
from validator.spec.presets import PRESETS
from validator.spec.prometheus import PrometheusSpec

FIXTURES = Path(__file__).parent / "fixtures/prometheus"
WINDOW = Window(1767225580.0, 1767225600.0)


def preset_spec(url: str, name: str, **changes) -> PrometheusSpec:
    preset = PRESETS[name]
    spec = PrometheusSpec(url, preset.latency_histogram, preset.request_counter, error_label=preset.error_label,
                          error_regex=preset.error_regex, route_label=preset.route_label,
                          latency_unit=preset.latency_unit, preset=name, retry_deadline=2.0)
    return replace(spec, **changes)


def measured(name: str, **changes):
    fixture = json.loads((FIXTURES / f"{name}.json").read_text())
    assert "not captured from a live server" in fixture["recorded"]
    rules = [Rule(answer["match"], answer["body"]) for answer in fixture["answers"]]
    with answering(rules) as server:
        source = PrometheusSource(preset_spec(server.url, fixture["preset"], **changes), {})
        return source.measure(WINDOW, ()), source, server


@pytest.mark.parametrize(
    ("name", "p99_seconds", "errors"),
    [("micrometer", (0.09, 0.14), 20), ("istio", (0.1, 0.25), 15), ("ingress-nginx", (0.1, 0.25), 10),
     ("opentelemetry", (0.1, 0.25), 8), ("opentelemetry-legacy", (0.1, 0.25), 5)],
)
def test_each_library_shape_gives_seconds_and_a_success_rate(name, p99_seconds, errors) -> None:
    measurements, source, server = measured(name)
    p99 = measurements["latency_p99"].evidence
    assert isinstance(p99, QuantileEvidence)
    assert p99_seconds[0] <= p99.estimate() <= p99_seconds[1]  # le in ms converted for istio and the legacy OTel
    success = measurements["success_rate"].evidence
    assert isinstance(success, ProportionEvidence) and success.total - success.successes == errors
    preset = PRESETS[name]
    sent = [seen.params.get("query", "") for seen in server.seen]
    assert any(f'{preset.error_label}!~"5.."' in query for query in sent)
    assert any(f"{preset.latency_histogram}_bucket" in query for query in sent)
    assert source.scope["series"] >= 1 and source.scope["targets_down"] == []


def test_a_counter_without_the_error_label_is_no_data_naming_it() -> None:
    fixture = json.loads((FIXTURES / "opentelemetry.json").read_text())
    rules = [Rule(r"^sum by \(code\)", success([{"metric": {}, "value": [0, "10000"]}]))]
    rules += [Rule(answer["match"], answer["body"]) for answer in fixture["answers"]]
    with answering(rules) as server:
        source = PrometheusSource(preset_spec(server.url, "opentelemetry", error_label="code"), {})
        success_rate = source.measure(WINDOW, ())["success_rate"]
    assert success_rate.evidence is None
    assert "http_server_request_duration_seconds_count" in success_rate.error and "`code`" in success_rate.error


def test_a_preset_fills_the_spec_and_every_field_can_be_overridden(tmp_path) -> None:
    spec = load_spec(write_spec(tmp_path, extra="").with_name("sla.toml"), {})
    assert spec.prometheus.latency_unit == "s"
    path = tmp_path / "preset.toml"
    path.write_text((tmp_path / "sla.toml").read_text().replace(
        'latency_histogram = "h"\nrequest_counter = "c"', 'preset = "istio"\nerror_regex = "5..|429"'))
    istio = load_spec(path, {}).prometheus
    assert (istio.latency_histogram, istio.request_counter) == ("istio_request_duration_milliseconds",
                                                                "istio_requests_total")
    assert istio.latency_scale == 0.001 and istio.error_label == "response_code" and istio.error_regex == "5..|429"


def test_an_unknown_preset_and_a_route_without_a_route_label_are_one_line_errors(tmp_path) -> None:
    base = (write_spec(tmp_path)).read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(base.replace('latency_histogram = "h"', 'preset = "istoi"\nlatency_histogram = "h"'))
    with pytest.raises(SpecError, match="prometheus.preset"):
        load_spec(bad, {})
    bad.write_text(base.replace('max = "1s"', 'max = "1s"\nroute = "/checkout"'))
    with pytest.raises(SpecError, match=r"gates\[0\]\.route"):
        load_spec(bad, {})


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[2] / "examples").glob("*/sla.toml")))
def test_every_example_spec_loads_uses_a_preset_and_fits_in_15_lines(path) -> None:
    spec = load_spec(path, {})
    assert spec.prometheus.preset is not None and len(path.read_text().splitlines()) <= 15
