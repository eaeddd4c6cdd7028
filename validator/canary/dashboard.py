"""`dashboard.json`: a Grafana dashboard of the spec's gate metrics, built with grafana-foundation-sdk.

One time-series panel per gate metric (latency quantiles, success rate, throughput, custom queries) over the
same live PromQL as the alert rules (live_promql), the gates' bounds as thresholds — absolute bounds red,
limits derived from the baseline or the pinned reference orange — and those baselines' figures as lines. With a
route label (`[prometheus] route_label`, or a preset's) a row repeats each metric per route; with `[rules]
track_label` a row compares canary and stable. The Prometheus data source is a dashboard variable, so the file
imports into any Grafana.
"""

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.builders import prometheus as prometheus_builders
from grafana_foundation_sdk.builders import timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common, dashboard

from validator.baseline.file import Baseline
from validator.canary import live_promql
from validator.canary.criteria_words import tolerance_text
from validator.judge import rollback
from validator.judge.gates import CheckKind
from validator.spec import GateSpec, Spec, promql

GRAFANA_UNITS = {"s": "s", "ratio": "percentunit", "req/s": "reqps", "": "short"}
DATASOURCE = dashboard.DataSourceRef(type_val="prometheus", uid="${datasource}")
PANEL_WIDTH, PANEL_HEIGHT = 12, 8


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str


@dataclass(frozen=True)
class PanelPlan:
    """One panel as values: what it shows, in which unit, with which queries and threshold steps."""

    section: str  # the dashboard row it sits in
    title: str
    unit: str
    queries: tuple[Query, ...]
    thresholds: tuple[tuple[float | None, str], ...] = field(default_factory=tuple)
    description: str = ""


def _metric_gates(spec: Spec) -> list[list[GateSpec]]:
    """The gates grouped by the figure they judge (metric and scope), in spec order."""
    groups: dict[str, list[GateSpec]] = {}
    for gate in spec.gates:
        groups.setdefault(gate.measurement_key, []).append(gate)
    return list(groups.values())


def _thresholds(criteria: Sequence[rollback.Criterion]) -> tuple[tuple[float | None, str], ...]:
    """Grafana threshold steps: beyond each limit is red (orange for a limit derived from the baseline)."""
    limited = [c for c in criteria if c.limit is not None]
    if not limited:
        return ()
    base = "red" if any(not c.upper for c in limited) else "green"
    steps = sorted(
        (c.limit, ("orange" if c.relative else "red") if c.upper else "green") for c in limited if c.limit is not None
    )
    return ((None, base), *steps)


def panel_plans(spec: Spec, baseline: Baseline | None, reference: Baseline | None = None) -> list[PanelPlan]:
    """Every panel of the dashboard, in order: gate metrics, then per route, then canary vs stable; `reference`
    is the pinned baseline of `max_drift`."""
    window = live_promql.duration(spec.rules.window)
    figures, pinned = rollback.baseline_figures(baseline), rollback.baseline_figures(reference)
    plans = []
    for gates in _metric_gates(spec):
        gate, criteria = gates[0], rollback.criteria(gates, figures, pinned)
        queries = [Query(live_promql.gate_expr(spec.prometheus, gate, window), f"{gate.metric.name} over {window}")]
        for name, known in (("baseline", figures), ("reference", pinned if gate.max_drift is not None else {})):
            figure = known.get(gate.measurement_key)
            if figure is not None:
                queries.append(Query(f"vector({live_promql.number(figure.estimate)})", f"{name} {figure.version}"))
        for c in criteria:
            if c.relative and c.limit is not None:
                queries.append(Query(f"vector({live_promql.number(c.limit)})", f"limit: {_against(c)} {_sign(c)}"))
        plans.append(
            PanelPlan(
                section="Gates",
                title=" / ".join(g.name for g in gates),
                unit=GRAFANA_UNITS.get(gate.metric.unit, "short"),
                queries=tuple(queries),
                thresholds=_thresholds(criteria),
                description=f"{gate.metric.name} for {spec.service}, as the gates measure it, over the last {window}; "
                f"bounds from {spec.path}",
            )
        )
    rules = spec.rules
    track = (_track_matcher(rules.track_label, spec),) if rules.track_label else ()
    for label, matchers, section in (
        (spec.prometheus.route_label, (), "Per route"),
        (rules.track_label, track, f"{rules.canary} vs {rules.stable}"),
    ):
        if label is None:
            continue
        for gates in _metric_gates(spec):
            gate = gates[0]
            if gate.is_custom or gate.scope:  # a scoped gate's figure is already one route's
                continue
            expr = live_promql.gate_expr(spec.prometheus, gate, window, by=(label,), matchers=matchers)
            plans.append(
                PanelPlan(
                    section=section,
                    title=f"{' / '.join(g.name for g in gates)}: {section.lower()}",
                    unit=GRAFANA_UNITS.get(gate.metric.unit, "short"),
                    queries=(Query(expr, f"{{{{{label}}}}}"),),
                    thresholds=_thresholds(rollback.criteria(gates, figures, pinned)),
                )
            )
    return plans


def _against(criterion: rollback.Criterion) -> str:
    return "reference" if criterion.bound == CheckKind.MAX_DRIFT else "baseline"


def _sign(criterion: rollback.Criterion) -> str:
    return f"{'+' if criterion.upper else '−'}{tolerance_text(criterion)}"


def _track_matcher(label: str, spec: Spec) -> str:
    values = "|".join(re.escape(v) for v in (spec.rules.canary, spec.rules.stable))
    return promql.matcher(label, "=~", values)  # quoted: a value cannot add a matcher


def _panel(plan: PanelPlan) -> timeseries.Panel:
    panel = (
        timeseries.Panel()
        .title(plan.title)
        .description(plan.description)
        .unit(plan.unit)
        .datasource(DATASOURCE)
        .span(PANEL_WIDTH)
        .height(PANEL_HEIGHT)
        .legend(common_builders.VizLegendOptions().show_legend(True).display_mode(common.LegendDisplayMode.LIST))
    )
    for index, query in enumerate(plan.queries):
        panel = panel.with_target(
            prometheus_builders.Dataquery()
            .expr(query.expr)
            .legend_format(query.legend)
            .ref_id(chr(ord("A") + index))
            .range()
        )
    if plan.thresholds:
        steps = [dashboard.Threshold(value=value, color=color) for value, color in plan.thresholds]
        panel = panel.thresholds(
            dashboard_builders.ThresholdsConfig().mode(dashboard.ThresholdsMode.ABSOLUTE).steps(steps)
        ).thresholds_style(common_builders.GraphThresholdsStyleConfig().mode(common.GraphTresholdsStyleMode.DASHED))
    return panel


def dashboard_json(spec: Spec, baseline: Baseline | None, reference: Baseline | None = None) -> str:
    """The dashboard's JSON model, ready for Grafana's import (POST /api/dashboards/db as `dashboard`)."""
    service = re.sub(r"[^A-Za-z0-9_-]", "-", spec.service)
    built = (
        dashboard_builders.Dashboard(f"slagate — {spec.service}")
        .uid(f"slagate-{service}"[:40])
        .description(f"The gates of {spec.path} watched live" + (f"; baseline {baseline.version}" if baseline else "")
                     + (f"; pinned reference {reference.version}" if reference else ""))
        .tags(["slagate", spec.service])
        .time("now-1h", "now")
        .refresh("30s")
        .with_variable(dashboard_builders.DatasourceVariable("datasource").label("Prometheus").type("prometheus"))
    )
    current = None
    for plan in panel_plans(spec, baseline, reference):
        if plan.section != current:
            current = plan.section
            built = built.with_row(dashboard_builders.Row(current))
        built = built.with_panel(_panel(plan))
    return json.dumps(built.build(), cls=JSONEncoder, indent=2, ensure_ascii=False) + "\n"
