"""Each gate's metric as live PromQL over a sliding window: the same series, selector and error matcher the
gates were measured with, so an alert, a dashboard panel and a rollback criterion watch what the gate judged.

The gates read `increase(...[window])` over the load window; live, the same figures are `rate(...[range])`
(latency quantiles and the success rate are unchanged by the division; throughput is per second either way).
"""

import math

from validator.judge.rollback import Criterion
from validator.spec import GateSpec, PrometheusSpec, promql

WINDOW_PLACEHOLDER = "$window"  # in a custom gate's query: the range to read over (docs/spec.md)
_UNITS = (("h", 3600_000), ("m", 60_000), ("s", 1000), ("ms", 1))


def duration(seconds: float) -> str:
    """Seconds as a Prometheus duration in the largest whole unit: 300 → '5m', 1.5 → '1500ms'."""
    milliseconds = max(1, round(seconds * 1000))
    for unit, size in _UNITS:
        if milliseconds % size == 0:
            return f"{milliseconds // size}{unit}"
    return f"{milliseconds}ms"


def seconds(text: str) -> float:
    """A duration written by `duration` (e.g. '5m', '1500ms') back in seconds."""
    for unit, size in sorted(_UNITS, key=lambda pair: -len(pair[0])):
        if text.endswith(unit) and text[: -len(unit)].isdigit():
            return int(text[: -len(unit)]) * size / 1000
    raise ValueError(f"{text!r} is not a duration such as '5m'")


def gate_matchers(prometheus: PrometheusSpec, gate: GateSpec) -> tuple[str, ...]:
    """The gate's own scope as label matchers: its route (through the route label) and its selector."""
    found = []
    if gate.route is not None and prometheus.route_label is not None:
        found.append(promql.matcher(prometheus.route_label, "=", gate.route))
    if gate.selector:
        found.append(gate.selector)
    return tuple(found)


def gate_expr(
    prometheus: PrometheusSpec, gate: GateSpec, window: str, by: tuple[str, ...] = (), matchers: tuple[str, ...] = ()
) -> str:
    """The gate's figure over the last `window` (a Prometheus duration) in the gate's unit (latency in seconds
    whatever the histogram's unit), optionally per label in `by` and narrowed by extra matchers (a track); a
    custom gate's query has `$window` replaced."""
    metric = gate.metric
    if gate.query is not None:
        return gate.query.replace(WINDOW_PLACEHOLDER, window)
    scoped = (prometheus.selector, *gate_matchers(prometheus, gate), *matchers)
    total_sum = f"sum by ({', '.join(by)}) " if by else "sum"
    if metric.quantile is not None:
        native = prometheus.histogram == "native"
        buckets = promql.series(prometheus.latency_histogram + ("" if native else "_bucket"), *scoped)
        by_buckets = by if native else ("le", *by)
        summed = f"sum by ({', '.join(by_buckets)}) " if by_buckets else "sum"
        quantile = f"histogram_quantile({metric.quantile:g}, {summed}(rate({buckets}[{window}])))"
        return quantile if prometheus.latency_scale == 1 else f"{quantile} * {number(prometheus.latency_scale)}"
    total = f"{total_sum}(rate({promql.series(prometheus.request_counter, *scoped)}[{window}]))"
    if metric.name == "throughput":
        return total
    ok_matcher = promql.matcher(prometheus.error_label, "!~", prometheus.error_regex)
    ok = f"{total_sum}(rate({promql.series(prometheus.request_counter, *scoped, ok_matcher)}[{window}]))"
    return f"{ok} / {total}"


def error_ratio_expr(prometheus: PrometheusSpec, window: str) -> str:
    """The share of requests counted as errors over `window` (for SLO burn rates)."""
    error_matcher = promql.matcher(prometheus.error_label, "=~", prometheus.error_regex)
    errors = f"sum(rate({promql.series(prometheus.request_counter, prometheus.selector, error_matcher)}[{window}]))"
    return f"{errors} / sum(rate({promql.series(prometheus.request_counter, prometheus.selector)}[{window}]))"


def number(value: float) -> str:
    """A PromQL number literal that round-trips the float."""
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def criterion_expr(prometheus: PrometheusSpec, criterion: Criterion, window: str) -> str | None:
    """The PromQL that returns a sample exactly while the criterion is breached; None without a limit."""
    if criterion.limit is None:
        return None
    relation = ">" if criterion.upper else "<"
    return f"({gate_expr(prometheus, criterion.gate, window)}) {relation} {number(criterion.limit)}"
