"""The spec's reading of the service checked against what Prometheus has, before any load is spent.

The spec claims which series hold latency and requests and which label values are errors. Each claim Prometheus
can already refute is checked here, with the same auth, TLS and headers as the queries: the metric's type from
`/api/v1/metadata`, the series and their labels from `/api/v1/series`, the error label's values and which of them
`error_regex` matches. A refuted claim is a problem (one line naming the key: exit 2, no load); what cannot be
decided yet (no series before any traffic) is a note, and the measurement checks decide it after the load.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from validator.prometheus.client import PrometheusClient, PrometheusUnavailable, QueryFailed
from validator.spec import GateSpec, PrometheusSpec
from validator.spec.promql import matcher, series

LOOKBACK_S = 600.0  # series seen in the last 10 minutes count as what the service exposes
STATUS = re.compile(r"[1-5](\d\d|[xX]{2})")  # an HTTP status as a label value: 503, or its class 5xx / 5XX
COUNTER_SUFFIXES = ("_total", "_count")  # a counter's samples, or a histogram's request count


@dataclass(frozen=True)
class Finding:
    """One thing learnt about a claim of the spec: a problem refutes it, anything else informs."""

    key: str  # the spec key it concerns, e.g. "prometheus.error_regex"
    text: str
    problem: bool = False


@dataclass
class Reading:
    """What Prometheus has for each claim of the spec, and what it refutes."""

    findings: list[Finding] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def problems(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.problem]

    def add(self, key: str, text: str, problem: bool = False) -> None:
        self.findings.append(Finding(key, text, problem))


def read_service(client: PrometheusClient, spec: PrometheusSpec, gates: Iterable[GateSpec], at: float) -> Reading:
    """Every claim of `spec` about the service checked over the LOOKBACK_S before `at`."""
    reading = Reading()
    start = at - LOOKBACK_S
    metadata = metadata_of(client, at)
    reading.facts["metadata_checked"] = metadata is not None
    _read_histogram(client, spec, reading, metadata, start, at)
    counter_series = _read_counter(client, spec, reading, metadata, start, at)
    if counter_series:
        server_success = any(g.metric.name == "success_rate" and g.source != "client" and not g.is_custom
                             for g in gates)
        _read_error_label(client, spec, reading, counter_series, server_success, start, at)
    return reading


def metadata_of(client: PrometheusClient, at: float) -> dict[str, list[dict[str, str]]] | None:
    """Every metric family Prometheus knows with its type, or None when the endpoint could not be read."""
    try:
        data = client.get("metadata", "/api/v1/metadata", {}, "/api/v1/metadata", at)
    except (QueryFailed, PrometheusUnavailable):  # e.g. a proxy that lets only queries through: types unchecked
        return None
    return data if isinstance(data, dict) else None


def metric_type(entries: Any) -> str:
    """The type one family's metadata entries give ("" when none)."""
    return str(entries[0].get("type", "")) if isinstance(entries, list) and entries else ""


def _family_type(metadata: dict[str, list[dict[str, str]]] | None, name: str) -> tuple[str, str] | None:
    """(family, type) of the metric family `name` belongs to (a counter's `_total`, a histogram's `_count`)."""
    if not metadata:
        return None
    candidates = [name] + [name[: -len(suffix)] for suffix in COUNTER_SUFFIXES if name.endswith(suffix)]
    for family in candidates:
        if metadata.get(family):
            return family, metric_type(metadata[family]) or "unknown"
    return None


def listed(client: PrometheusClient, match: str, start: float, end: float) -> list[dict[str, str]] | None:
    """The label sets of the series matching `match` in [start, end]; None when they could not be listed."""
    try:
        return client.series(match, start, end)
    except QueryFailed:
        return None


def _unknown_name(reading: Reading, key: str, name: str, metadata: dict[str, Any] | None, kind: str) -> None:
    """A name neither the metadata nor any series knows yet, with the families of that kind Prometheus has: a
    typo, or a service that has served no request (a labelled metric has no series before its first one)."""
    similar = sorted(family for family, entries in (metadata or {}).items() if metric_type(entries) == kind)[:6]
    hint = f"; {kind}s Prometheus has: {', '.join(similar)}" if similar else ""
    reading.add(key, f"Prometheus knows no metric named {name} yet (a typo, or no request served yet; checked "
                     f"again after the load){hint}")


def _read_histogram(client: PrometheusClient, spec: PrometheusSpec, reading: Reading,
                    metadata: dict[str, Any] | None, start: float, end: float) -> None:
    name, key = spec.latency_histogram, "prometheus.latency_histogram"
    family = _family_type(metadata, name)
    if family is not None and family[1] not in ("histogram", "gaugehistogram", "unknown"):
        reading.add(key, f"{name} is a {family[1]}, not a histogram: slagate reads histogram buckets", problem=True)
        return
    buckets = listed(client, series(name + "_bucket", spec.selector), start, end)
    native = listed(client, series(name, spec.selector), start, end)
    if spec.histogram == "native" and native:
        reading.facts["histogram"] = {"kind": "native", "series": len(native)}
        reading.add(key, f"{series(name, spec.selector)}: native histogram, {len(native)} series")
        return
    if spec.histogram == "native" and buckets:
        reading.add("prometheus.histogram", f"{name} is kept as a classic histogram ({name}_bucket series, no native "
                    'ones): set prometheus.histogram = "classic"', problem=True)
        return
    if buckets:
        bounds = sorted({float(s["le"]) for s in buckets if "le" in s})
        reading.facts["histogram"] = {"kind": "classic", "series": len(buckets), "bounds": bounds}
        span = f" from {bounds[0]:g} to {bounds[-2]:g} s and +Inf" if len(bounds) > 1 else ""
        reading.add(key, f"{series(name + '_bucket', spec.selector)}: classic histogram, {len(buckets)} series, "
                         f"{len(bounds)} bucket bounds{span}")
        return
    if native:
        reading.facts["histogram"] = {"kind": "native", "series": len(native)}
        reading.add("prometheus.histogram", f"{name} has series under the selector but no {name}_bucket: Prometheus "
                    'keeps it as a native histogram only; set prometheus.histogram = "native"', problem=True)
        return
    anywhere = listed(client, name + "_bucket", start, end)
    if family is None and anywhere == [] and metadata:
        _unknown_name(reading, key, name, metadata, "histogram")
    elif anywhere:
        jobs = sorted({s.get("job", "") for s in anywhere})
        reading.add(key, f"{name}_bucket has no series under the selector `{spec.selector}` (it has some for job "
                         f"{', '.join(jobs)}); checked again after the load")
    else:
        reading.add(key, f"{name}_bucket has no series yet; checked again after the load")


def _read_counter(client: PrometheusClient, spec: PrometheusSpec, reading: Reading,
                  metadata: dict[str, Any] | None, start: float, end: float) -> list[dict[str, str]]:
    """The counter's series under the selector ([] when none yet), after its type is checked."""
    name, key = spec.request_counter, "prometheus.request_counter"
    family = _family_type(metadata, name)
    allowed = ("counter", "unknown") + (("histogram", "summary") if name.endswith("_count") else ())
    if family is not None and family[1] not in allowed:
        reading.add(key, f"{name} belongs to {family[0]}, a {family[1]}: expected a counter of requests (or a "
                         "histogram's _count)", problem=True)
        return []
    found = listed(client, series(name, spec.selector), start, end)
    if found:
        labels = sorted({label for s in found for label in s} - {"__name__"})
        reading.facts["counter"] = {"series": len(found), "labels": labels,
                                    "type": None if family is None else family[1]}
        reading.add(key, f"{series(name, spec.selector)}: {family[1] if family else 'type unknown'}, {len(found)} "
                         f"series, labels {', '.join(labels)}")
        return found
    anywhere = listed(client, name, start, end)
    if family is None and anywhere == [] and metadata:
        _unknown_name(reading, key, name, metadata, "counter")
    else:
        reading.add(key, f"{name} has no series under the selector `{spec.selector}` yet; checked again after "
                         "the load")
    return []


def _read_error_label(client: PrometheusClient, spec: PrometheusSpec, reading: Reading, found: list[dict[str, str]],
                      server_success: bool, start: float, end: float) -> None:
    label, regex = spec.error_label, spec.error_regex
    if not any(label in s for s in found):
        text = (f"{spec.request_counter} has no label `{label}`: the server cannot show errors; judge success rate "
                'with source = "client"')
        reading.add("prometheus.error_label", text, problem=server_success)
        return
    values = sorted({s[label] for s in found if label in s})
    matched_series = listed(client, series(spec.request_counter, spec.selector, matcher(label, "=~", regex)),
                             start, end)
    matched = None if matched_series is None else sorted({s[label] for s in matched_series if label in s})
    reading.facts["error_label"] = {"label": label, "values": values, "regex": regex, "matched": matched}
    statuses = [v for v in values if STATUS.fullmatch(v)]
    shown = ", ".join(values[:12]) + (f" and {len(values) - 12} more" if len(values) > 12 else "")
    counted = "none" if not matched else ", ".join(matched)
    reading.add("prometheus.error_label", f"`{label}` takes {shown}; error_regex \"{regex}\" counts {counted} as "
                                          "errors")
    if not statuses:
        others = _status_labels(found, label)
        if others:
            reading.add("prometheus.error_label", f"`{label}` takes {shown}, which are not HTTP statuses, while "
                        f"{' and '.join(f'`{o}`' for o in others)} does (set prometheus.error_label)",
                        problem=server_success)
        return
    grouped = [v for v in statuses if not v.isdigit()]
    examples = sorted({"5" + v[1:] for v in grouped}) if grouped else [str(code) for code in range(500, 600)]
    if not any(_matches(regex, example) for example in examples):
        reading.add("prometheus.error_regex", f"error_regex \"{regex}\" matches no server error in the style of the "
                    f"values `{label}` takes ({', '.join(statuses[:6])}): it would count no 5xx response as an error "
                    f"(e.g. \"{'5xx' if grouped else '5..'}\")", problem=server_success)


def _matches(regex: str, value: str) -> bool:
    """Whether `regex` matches all of `value`, as Prometheus anchors it (a pattern Python cannot read: assumed)."""
    try:
        return re.fullmatch(regex, value) is not None
    except re.error:
        return True


def _status_labels(found: list[dict[str, str]], skip: str) -> list[str]:
    """The counter's labels whose values are HTTP statuses."""
    labels = sorted({label for s in found for label in s} - {skip, "__name__", "le"})
    return [label for label in labels if any(STATUS.fullmatch(s.get(label, "")) for s in found)
            and all(STATUS.fullmatch(s[label]) for s in found if label in s)]

