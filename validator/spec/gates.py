"""`[[gates]]`: each gate's metric, severity, absolute bounds and tolerance against the baseline."""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from validator.spec.metrics import BUILTIN_METRICS, MetricDefinition, custom_metric
from validator.spec.prometheus import selector
from validator.spec.reader import Reader, SpecError, boolean, choice
from validator.spec.units import parse_fraction

Severity = Literal["critical", "warning"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
# whose figure a gate judges: Prometheus's, the load generator's, both, or (open model) the generator's latency from
# each request's intended send time, which is what a client on a timetable sees
Source = Literal["server", "client", "both", "corrected"]
SOURCES: tuple[Source, ...] = get_args(Source)


ChangeScale = Literal["ratio", "difference"]  # a change against the baseline: a ratio or a difference


@dataclass(frozen=True)
class GateSpec:
    """One gate: a metric, a severity, absolute bounds and/or a tolerance against the baseline."""

    name: str
    metric: MetricDefinition
    severity: Severity
    max: float | None = None
    min: float | None = None
    max_regression: float | None = None
    max_drift: float | None = None  # the cumulative tolerance against the pinned reference baseline
    query: str | None = None
    route: str | None = None  # a value of the preset's route label (server) and a Locust request name (client)
    selector: str = ""  # extra label matchers for this gate only
    source: Source = "server"

    @property
    def is_custom(self) -> bool:
        return self.query is not None

    @property
    def scope(self) -> str:
        """The gate's own scope as text (`route=/checkout`, a selector), "" when it judges all traffic."""
        parts = ([f"route={self.route}"] if self.route is not None else []) + ([self.selector] if self.selector else [])
        return ", ".join(parts)

    def regression_limit(self, scale: ChangeScale) -> float:
        """`max_regression` as a limit on the change against the baseline, toward worse: a ratio 1 ± tolerance, or a
        difference ± tolerance (NaN without one). The judging, the sequential looks and the rollback rules use it."""
        return self.relative_limit(self.max_regression, scale)

    def relative_limit(self, tolerance: float | None, scale: ChangeScale) -> float:
        """A tolerance against a baseline (`max_regression`, `max_drift`) as a limit on the change, toward worse."""
        step = (tolerance if tolerance is not None else math.nan) * (1 if self.metric.higher_is_worse else -1)
        return 1.0 + step if scale == "ratio" else step

    @property
    def measurement_key(self) -> str:
        """The key of the server figure this gate judges in metrics.json (the client's is `client:` + it)."""
        return f"{self.metric.name} [{self.scope}]" if self.scope and not self.is_custom else self.metric.name


CLIENT_METRICS = ("latency_p50", "latency_p95", "latency_p99", "success_rate", "throughput")


def _regression(value: object) -> float:
    tolerance = parse_fraction(value)
    if tolerance < 0:
        raise ValueError("a non-negative tolerance such as '10%'")
    return tolerance


def gates_section(root: Reader, path: Path) -> tuple[GateSpec, ...]:
    entries = root.table.get("gates")
    if not isinstance(entries, list) or not entries:
        raise SpecError(path, "gates", "at least one [[gates]] table")
    root._read.add("gates")
    gates = tuple(
        _gate(root.child(entry if isinstance(entry, Mapping) else {}, f"gates[{i}]"), entry)
        for i, entry in enumerate(entries)
    )
    names = [gate.name for gate in gates]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise SpecError(path, "gates", "distinct gate names", duplicates[0])
    return gates


def _gate(table: Reader, entry: object) -> GateSpec:
    if not isinstance(entry, Mapping):
        raise table.fail("", "a table", entry)
    query = table.text("query", None)
    higher_is_better = table.get("higher_is_better", boolean, "true or false", False)
    if query is not None:
        metric = custom_metric(table.text("name"), higher_is_better)
    else:
        metric_name = table.text("metric")
        if metric_name not in BUILTIN_METRICS:
            known = ", ".join(BUILTIN_METRICS)
            raise table.fail("metric", f"one of {known} (or a `query` with custom PromQL)", metric_name)
        metric = BUILTIN_METRICS[metric_name]
    bound_form = "a bound in the metric's unit (e.g. '250ms', '99.5%', '500/s')"
    gate = GateSpec(
        name=table.text("name", metric.name),
        metric=metric,
        severity=table.get("severity", choice(SEVERITIES), "'critical' or 'warning'", "critical"),
        max=table.get("max", metric.parse_bound, bound_form, None),
        min=table.get("min", metric.parse_bound, bound_form, None),
        max_regression=table.get("max_regression", _regression, "a tolerance such as '10%'", None),
        max_drift=table.get("max_drift", _regression, "a tolerance such as '25%'", None),
        query=query,
        route=table.text("route", None),
        selector=table.get("selector", selector, "label matchers such as 'handler=\"/api\"'", ""),
        source=table.get("source", choice(SOURCES), "'server', 'client', 'both' or 'corrected'", "server"),
    )
    if query is not None and (gate.route is not None or gate.selector or gate.source != "server"):
        raise table.fail("query", "a custom query without route, selector or source (put matchers in the query)")
    if gate.source != "server" and metric.name not in CLIENT_METRICS:
        raise table.fail("source", f"'server' for {metric.name} (the client measures {', '.join(CLIENT_METRICS)})")
    if gate.source == "corrected" and metric.quantile is None:
        raise table.fail("source", f"'server', 'client' or 'both' for {metric.name} (the corrected figure is latency)")
    if gate.max is None and gate.min is None and gate.max_regression is None and gate.max_drift is None:
        raise table.fail("max", "at least one of max, min, max_regression or max_drift")
    _check_bounds(table, gate)
    return gate


def _check_bounds(table: Reader, gate: GateSpec) -> None:
    """Bounds a measurement could meet: finite; a latency, a rate or a ratio never negative; a ratio at most 100 %;
    `min` at most `max`. An impossible bound would make a gate that always fails or always passes."""
    unit = gate.metric.unit
    for key, bound in (("max", gate.max), ("min", gate.min)):
        if bound is None:
            continue
        if not math.isfinite(bound):
            raise table.fail(key, "a finite bound", table.table[key])
        if unit and bound < 0:
            raise table.fail(key, f"a bound of zero or more (a {gate.metric.name} is never negative)", table.table[key])
        if unit == "ratio" and bound > 1:
            raise table.fail(key, "a ratio between 0% and 100%", table.table[key])
    if gate.min is not None and gate.max is not None and gate.min > gate.max:
        raise table.fail("min", f"at most max ({table.table['max']})", table.table["min"])
