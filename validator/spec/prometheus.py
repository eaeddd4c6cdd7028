"""`[prometheus]`: where the service's metrics live and which series hold latency and request outcomes."""

from dataclasses import dataclass

from validator.spec.reader import Reader, positive
from validator.units import parse_duration


@dataclass(frozen=True)
class PrometheusSpec:
    """Where the service's metrics live and which series hold latency and request outcomes."""

    url: str
    latency_histogram: str
    request_counter: str
    selector: str = ""
    error_label: str = "code"
    error_regex: str = "5.."
    scrape_interval: float = 15.0
    timeout: float = 10.0
    bearer_token_env: str | None = None


def prometheus_section(table: Reader) -> PrometheusSpec:
    return PrometheusSpec(
        url=table.text("url"),
        latency_histogram=table.text("latency_histogram"),
        request_counter=table.text("request_counter"),
        selector=table.get("selector", _selector, "label matchers such as 'job=\"api\"'", ""),
        error_label=table.text("error_label", PrometheusSpec.error_label),
        error_regex=table.text("error_regex", PrometheusSpec.error_regex),
        scrape_interval=table.get(
            "scrape_interval", positive(parse_duration, "a duration"), "", PrometheusSpec.scrape_interval
        ),
        timeout=table.get("timeout", positive(parse_duration, "a duration"), "", PrometheusSpec.timeout),
        bearer_token_env=table.text("bearer_token_env", None),
    )


def _selector(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("label matchers such as 'job=\"api\"'")
    return value.strip().removeprefix("{").removesuffix("}").strip()
