"""What common instrumentation libraries call their latency histogram, request counter, status and route labels.

A preset fills in `[prometheus]` defaults; every field can still be set in the spec. Units are the metric's own
(`"ms"` histograms are read in milliseconds and converted), so gates stay in human units.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    """The series and labels one library exports for HTTP server requests."""

    latency_histogram: str
    request_counter: str
    error_label: str
    route_label: str | None
    latency_unit: str = "s"  # "s" or "ms": the unit of the histogram's `le` bounds
    error_regex: str = "5.."  # matches "503" and the grouped "5xx"
    library: str = ""


PRESETS: dict[str, Preset] = {
    "fastapi-instrumentator": Preset(
        "http_request_duration_seconds", "http_requests_total", "status", "handler",
        library="prometheus-fastapi-instrumentator (Python)",
    ),
    "flask-exporter": Preset(
        "flask_http_request_duration_seconds", "flask_http_request_duration_seconds_count", "status", "path",
        library="prometheus-flask-exporter (Python)",
    ),
    "promhttp": Preset(
        "http_request_duration_seconds", "http_requests_total", "code", "handler",
        library="Go client_golang promhttp middleware",
    ),
    "prometheus-server": Preset(
        "prometheus_http_request_duration_seconds", "prometheus_http_requests_total", "code", "handler",
        library="Prometheus's own HTTP API (client_golang promhttp)",
    ),
    "micrometer": Preset(
        "http_server_requests_seconds", "http_server_requests_seconds_count", "status", "uri",
        library="Spring Boot Micrometer (histogram enabled)",
    ),
    "istio": Preset(
        "istio_request_duration_milliseconds", "istio_requests_total", "response_code", None, latency_unit="ms",
        library="Istio / Envoy standard metrics",
    ),
    "ingress-nginx": Preset(
        "nginx_ingress_controller_request_duration_seconds", "nginx_ingress_controller_requests", "status", "path",
        library="Kubernetes ingress-nginx controller",
    ),
    "opentelemetry": Preset(
        "http_server_request_duration_seconds", "http_server_request_duration_seconds_count",
        "http_response_status_code", "http_route", library="OpenTelemetry HTTP semantic conventions (stable)",
    ),
    "opentelemetry-legacy": Preset(
        "http_server_duration_milliseconds", "http_server_duration_milliseconds_count", "http_status_code",
        "http_route", latency_unit="ms", library="OpenTelemetry HTTP semantic conventions (before 1.20)",
    ),
}

UNIT_SECONDS = {"s": 1.0, "ms": 0.001}
