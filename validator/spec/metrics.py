"""The catalogue of metrics a gate may name: what each measures, its unit and which way is worse."""

from collections.abc import Callable
from dataclasses import dataclass

from validator.spec.units import parse_duration, parse_fraction, parse_number, parse_rate


@dataclass(frozen=True)
class MetricDefinition:
    """One gateable metric: its unit, how a bound on it is written, and which direction is bad."""

    name: str
    unit: str  # "s", "ratio", "req/s" or "" (custom)
    higher_is_worse: bool
    parse_bound: Callable[[object], float]
    quantile: float | None = None


BUILTIN_METRICS: dict[str, MetricDefinition] = {
    "latency_p50": MetricDefinition("latency_p50", "s", True, parse_duration, 0.50),  # median server latency
    "latency_p95": MetricDefinition("latency_p95", "s", True, parse_duration, 0.95),
    "latency_p99": MetricDefinition("latency_p99", "s", True, parse_duration, 0.99),
    "success_rate": MetricDefinition("success_rate", "ratio", False, parse_fraction),  # requests not labelled errors
    "throughput": MetricDefinition("throughput", "req/s", False, parse_rate),  # requests per second
}


def custom_metric(name: str, higher_is_better: bool) -> MetricDefinition:
    """The definition of a custom PromQL gate: a bare number whose good direction the spec says."""
    return MetricDefinition(name, "", not higher_is_better, parse_number)
