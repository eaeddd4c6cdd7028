"""Unit tests for the generated rules, in `promtool test rules` form: synthetic input series that prove each
alert fires on a breach, that nothing fires on a healthy service, and that missing data fires the no-data
alerts of the critical gates.

The series are the service's own (the spec's histogram and counter, with the selector's equality matchers as
labels), so the tests go through the same recording rules as production. A histogram whose observations all
sit in one narrow bucket (0.99·v, v] has every quantile in [0.99·v, v]; a counter split by the error label has
a chosen rate and success share. Custom-query gates cannot be fed synthetic series and get no test, nor can the
latency gates of a native histogram (promtool 2.42's input series are float samples only).
"""

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from validator.canary import live_promql
from validator.canary.rules import Alert
from validator.errors import Untestable
from validator.judge.rollback import Criterion
from validator.spec import GateSpec, PrometheusSpec, Spec

STEP_SECONDS = 60
PER_SECOND = 1.0  # the histogram's observation rate in every scenario
DEFAULT_RATE = 10.0  # requests per second when no throughput bound says otherwise
DEFAULT_LATENCY = 0.1  # seconds, when no latency bound says otherwise
_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')
_ERROR_SAMPLES = ("500", "503", "5xx", "error", "ERROR", "failure", "true", "1")
_OK_SAMPLES = ("200", "204", "2xx", "ok", "OK", "success", "false", "0")


@dataclass(frozen=True)
class Figures:
    """One scenario: the p-anything latency (s), the request rate (req/s) and the success share."""

    latency: float
    rate: float
    success: float


def selector_labels(selector: str) -> dict[str, str]:
    """Labels a synthetic series needs to match the selector: `=` values as they are, `=~` a literal match."""
    labels, rest = {}, selector
    while rest.strip():
        match = _MATCHER.match(rest)
        if match is None:
            raise Untestable(f"cannot read the selector {selector!r}")
        name, operator, value = match.groups()
        value = value.encode().decode("unicode_escape")
        if operator == "=":
            labels[name] = value
        elif operator == "=~":
            candidate = next((c for c in (value, *value.split("|")) if _matches(value, c)), None)
            if candidate is None:
                raise Untestable(f"no literal value matches {name}=~{value!r}")
            labels[name] = candidate
        elif _matches(value, "") if operator == "!~" else value == "":
            raise Untestable(f"{name}{operator}{value!r} refuses a series without the label")
        rest = rest[match.end() :]
    return labels


def _matches(pattern: str, text: str) -> bool:
    """Whether the regex matches all of `text`; Untestable when it is not a regex at all (e.g. ends in `\\`)."""
    try:
        return re.fullmatch(pattern, text) is not None
    except re.error as error:
        raise Untestable(f"{pattern!r} is not a valid regular expression ({error})") from None


def _pick(samples: Sequence[str], pattern: str, matching: bool) -> str:
    value = next((s for s in samples if _matches(pattern, s) == matching), None)
    if value is None:
        raise Untestable(f"no status value {'matches' if matching else 'escapes'} error_regex {pattern!r}")
    return value


def _healthy(criteria: Sequence[Criterion], default: float, ceiling: float = math.inf) -> float:
    """A value inside every bound of `criteria` (all on one figure), with a wide margin."""
    lows = [c.limit for c in criteria if not c.upper and c.limit is not None]
    highs = [c.limit for c in criteria if c.upper and c.limit is not None]
    low, high = max(lows, default=0.0), min(highs, default=ceiling)
    if not low < high:
        raise Untestable(f"no value lies inside bounds {low:g} … {high:g}")
    if not highs:
        return ceiling if ceiling < math.inf else max(2 * low, default)
    if not lows:
        return min(default, high / 2)
    return (low + high) / 2


def _breach(criterion: Criterion, ceiling: float = math.inf) -> float:
    limit = criterion.limit or 0.0
    if criterion.upper:
        value = 2 * limit if ceiling == math.inf else (limit + ceiling) / 2
        if not value > limit:
            raise Untestable(f"nothing lies above {limit:g}")
        return value
    if not limit > 0:
        raise Untestable(f"nothing lies below {limit:g}")
    return limit / 2


def scopes(prometheus: PrometheusSpec, gates: Sequence[GateSpec]) -> list[dict[str, str]]:
    """The label sets synthetic series need: the selector's, and each scoped gate's route or selector on top."""
    base = selector_labels(prometheus.selector)
    found = [base]
    for gate in gates:
        extra = selector_labels(gate.selector) if gate.selector else {}
        if gate.route is not None and prometheus.route_label is not None:
            extra[prometheus.route_label] = gate.route
        if extra and {**base, **extra} not in found:
            found.append({**base, **extra})
    return found


def _series(
    prometheus: PrometheusSpec, figures: Figures, steps: int, labels: dict[str, str], scopes_count: int
) -> list[dict[str, str]]:
    error, ok = (_pick(_ERROR_SAMPLES, prometheus.error_regex, m) for m in (True, False))
    v = figures.latency / prometheus.latency_scale  # in the histogram's own unit

    def name(metric: str, **extra: str) -> str:
        pairs = {**labels, **extra}
        return metric + "{" + ", ".join(f'{k}="{value}"' for k, value in pairs.items()) + "}"

    def counter(per_second: float) -> str:  # the figure's rate split evenly over the scopes' series
        return f"0+{per_second * STEP_SECONDS / scopes_count:g}x{steps}"

    bucket = prometheus.latency_histogram + "_bucket"
    return [
        {"series": name(bucket, le=repr(round(v * 0.99, 12))), "values": counter(0.0)},
        {"series": name(bucket, le=repr(v)), "values": counter(PER_SECOND)},
        {"series": name(bucket, le="+Inf"), "values": counter(PER_SECOND)},
        {"series": name(prometheus.request_counter, **{prometheus.error_label: ok}),
         "values": counter(figures.rate * figures.success)},
        {"series": name(prometheus.request_counter, **{prometheus.error_label: error}),
         "values": counter(figures.rate * (1 - figures.success))},
    ]  # fmt: skip


def _expected(alert: Alert) -> dict[str, Any]:
    return {"exp_labels": dict(alert.labels), "exp_annotations": dict(alert.annotations)}


def unit_tests(spec: Spec, rules_file: str, alerts: Sequence[Alert]) -> tuple[dict[str, Any], list[str]]:
    """The promtool test document for `alerts` (as written to `rules_file`), and why any alert has no test."""
    untested = [a for a in alerts if _untestable(a, spec.prometheus)]
    alerts = [a for a in alerts if a not in untested]
    criteria = [a.criterion for a in alerts if a.criterion is not None]
    label_sets = scopes(spec.prometheus, [c.gate for c in criteria])

    def series(figures: Figures) -> list[dict[str, str]]:
        n = len(label_sets)
        return [s for labels in label_sets for s in _series(spec.prometheus, figures, steps, labels, n)]

    by_metric = lambda *names: [c for c in criteria if c.gate.metric.name in names]  # noqa: E731
    latency = ("latency_p50", "latency_p95", "latency_p99")
    healthy = Figures(
        _healthy(by_metric(*latency), DEFAULT_LATENCY),
        _healthy(by_metric("throughput"), DEFAULT_RATE),
        _healthy(by_metric("success_rate"), 1.0, ceiling=1.0),
    )
    holds = [live_promql.seconds(a.hold) for a in alerts]
    eval_seconds = max(holds, default=0) + 2 * STEP_SECONDS + spec.rules.window + 300
    eval_minutes = math.ceil(eval_seconds / STEP_SECONDS)
    steps = eval_minutes + 5
    at = f"{eval_minutes}m"
    skipped = [a.name for a in untested]
    groups: list[dict[str, Any]] = [
        {
            "name": "healthy: no alert fires",
            "interval": "1m",
            "input_series": series(healthy),
            "alert_rule_test": [
                {"eval_time": at, "alertname": a.name, "exp_alerts": []} for a in alerts
            ],
        },
        {
            "name": "no data: every critical gate's no-data alert fires",
            "interval": "1m",
            "input_series": [{"series": 'slagate_unrelated_series{job="elsewhere"}', "values": f"1x{steps}"}],
            "alert_rule_test": [
                {"eval_time": at, "alertname": a.name, "exp_alerts": [_expected(a)]}
                for a in alerts
                if a.no_data_gate is not None
            ],
        },
    ]
    for alert in alerts:
        figures = _breach_figures(alert, healthy, spec)
        if figures is None:
            continue
        groups.append(
            {
                "name": f"breach: {alert.name} fires",
                "interval": "1m",
                "input_series": series(figures),
                "alert_rule_test": [{"eval_time": at, "alertname": alert.name, "exp_alerts": [_expected(alert)]}],
            }
        )
    return {"rule_files": [rules_file], "evaluation_interval": "1m", "tests": groups}, skipped


def _untestable(alert: Alert, prometheus: PrometheusSpec) -> bool:
    """Whether synthetic series cannot drive the alert: a custom query, or latency read from a native histogram."""
    gate = alert.no_data_gate or (alert.criterion.gate if alert.criterion else None)
    if gate is None:
        return False
    return gate.is_custom or (prometheus.histogram == "native" and gate.metric.quantile is not None)


def _breach_figures(alert: Alert, healthy: Figures, spec: Spec) -> Figures | None:
    criterion = alert.criterion
    if alert.no_data_gate is not None:
        return None
    if criterion is None:  # an SLO burn-rate alert: errors at 20 × the budget (at most every request)
        assert spec.rules.slo is not None
        return Figures(healthy.latency, healthy.rate, max(0.0, 1 - min(1.0, 20 * (1 - spec.rules.slo.objective))))
    metric = criterion.gate.metric
    if metric.quantile is not None:
        return Figures(_breach(criterion), healthy.rate, healthy.success)
    if metric.name == "throughput":
        return Figures(healthy.latency, _breach(criterion), healthy.success)
    return Figures(healthy.latency, healthy.rate, _breach(criterion, ceiling=1.0))


def tests_yaml(spec: Spec, rules_file: str, alerts: Sequence[Alert]) -> tuple[str, list[str]]:
    """The promtool test file's text, and why any alert has no test."""
    document, skipped = unit_tests(spec, rules_file, alerts)
    header = f"# promtool test rules for {rules_file}, generated by `slagate rules` from {spec.path}.\n"
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=1000), skipped
