"""What a service exposes to Prometheus, found from `/api/v1/metadata` and its series, for `slagate init`.

Values only: the latency histogram (classic or native, its unit and bucket bounds), the request counter with its
status label and the values that label takes, the route label and its values, the preset that names the same
series, and the figures of recent traffic to propose bounds from. `validator/report/starter.py` writes them up.
"""

import math
import re
from dataclasses import dataclass, field
from typing import Any

from validator.errors import NothingFound
from validator.prometheus.client import PrometheusClient, QueryFailed
from validator.prometheus.reading import listed, metadata_of, metric_type
from validator.spec import PrometheusSpec
from validator.spec.presets import PRESETS
from validator.spec.prometheus import HistogramKind
from validator.spec.promql import matcher, series
from validator.spec.units import parse_duration

LOOKBACK_S = 600.0
STATUS_LABELS = ("code", "status", "status_code", "http_status_code", "http_response_status_code", "response_code")
ROUTE_LABELS = ("handler", "http_route", "route", "path", "uri", "endpoint", "url")
UNITS = {"_seconds": "s", "_milliseconds": "ms"}
QUANTILES = (0.5, 0.95, 0.99)


@dataclass(frozen=True)
class Discovered:
    """The service's HTTP server metrics as Prometheus has them."""

    latency_histogram: str
    histogram: HistogramKind
    latency_unit: str  # "s" or "ms"
    bounds: tuple[float, ...]  # classic upper bounds in seconds (empty for native)
    request_counter: str
    error_label: str
    status_values: tuple[str, ...]
    route_label: str | None
    routes: tuple[str, ...]
    preset: str | None
    recent: dict[float, float] = field(default_factory=dict)  # quantile → seconds over the lookback, if traffic
    recent_rate: float | None = None  # requests per second over the lookback
    scrape_interval: float | None = None  # seconds between the counter's samples
    others: tuple[str, ...] = ()  # other latency histograms seen, for the user to choose from
    answered_routes: tuple[str, ...] | None = None  # routes answered 2xx in the lookback; None without traffic


def discover(client: PrometheusClient, selector: str, at: float) -> Discovered:
    """The best-matching HTTP server histogram and counter under `selector`; NothingFound when there is none."""
    families = metadata_of(client, at)
    if families is None:
        raise NothingFound("/api/v1/metadata could not be read: init finds the metrics by their types")
    start = at - LOOKBACK_S
    histograms = sorted((name for name, entries in families.items() if metric_type(entries) == "histogram"),
                        key=lambda name: -_score(name))
    found = [(name, kind, labels) for name in histograms
             for kind, labels in [_histogram_series(client, name, selector, start, at)] if kind]
    usable = [item for item in found if _unit(item[0]) and _score(item[0]) > 0]
    if not usable:
        seen = ", ".join(name for name, _, _ in found) or "none"
        raise NothingFound(f"no HTTP server latency histogram in seconds or milliseconds under `{selector}` in the "
                           f"last {LOOKBACK_S / 60:g} minutes (histograms with series: {seen})")
    named = {preset.latency_histogram for preset in PRESETS.values()}
    usable.sort(key=lambda item: -(_score(item[0]) + 2 * (item[0] in named) + any(r in item[2] for r in ROUTE_LABELS)))
    name, kind, labels = usable[0]
    counter, counter_labels = _preset_counter(client, name, selector, start, at) or _counter(
        client, families, name, selector, start, at)
    error_label = next((label for label in STATUS_LABELS if label in counter_labels), "code")
    route_label = next((label for label in ROUTE_LABELS if label in labels or label in counter_labels), None)
    unit = _unit(name) or "s"
    scale = 0.001 if unit == "ms" else 1.0
    bounds = tuple(sorted(float(le) * scale for le in labels.get("le", set()))) if kind == "classic" else ()
    preset = next((p for p, preset in PRESETS.items() if preset.latency_histogram == name
                   and preset.request_counter == counter and preset.error_label == error_label), None)
    spec = PrometheusSpec(client.spec.url, name, counter, selector=selector, histogram=kind, latency_unit=unit)
    recent, rate = _recent(client, spec, at)
    ok_routes = _routes_answered(client, counter, selector, error_label, route_label, at)
    return Discovered(
        latency_histogram=name, histogram=kind, latency_unit=unit, bounds=bounds, request_counter=counter,
        error_label=error_label, status_values=tuple(sorted(counter_labels.get(error_label, set()))),
        route_label=route_label, routes=tuple(sorted((labels | counter_labels).get(route_label or "", set()))),
        answered_routes=ok_routes,
        preset=preset, recent=recent, recent_rate=rate, others=tuple(n for n, _, _ in found if n != name),
        scrape_interval=_scrape_interval(client, counter_labels.get("job", set()), at),
    )


def _score(name: str) -> int:
    """How much a histogram's name looks like the latency of HTTP requests the service serves."""
    words = set(re.split(r"[_:]", name.lower()))
    score = 3 * bool(words & {"http", "request", "requests"}) + 2 * bool(words & {"duration", "latency"})
    score += bool(words & {"server", "handler"}) - 4 * bool(words & {"client", "outgoing", "size", "bytes"})
    return score - 1 if words & {"prometheus", "go", "process"} else score


def _unit(name: str) -> str | None:
    return next((unit for suffix, unit in UNITS.items() if name.endswith(suffix)), None)


def _label_values(found: list[dict[str, str]]) -> dict[str, set[str]]:
    values: dict[str, set[str]] = {}
    for labels in found:
        for label, value in labels.items():
            if label != "__name__":
                values.setdefault(label, set()).add(value)
    return values


def _series(client: PrometheusClient, match: str, start: float, end: float) -> list[dict[str, str]]:
    return listed(client, match, start, end) or []


def _histogram_series(client: PrometheusClient, name: str, selector: str, start: float,
                      end: float) -> tuple[HistogramKind | None, dict[str, set[str]]]:
    """("classic" or "native", label values) of the histogram's series under the selector, (None, {}) if none."""
    classic = _series(client, series(name + "_bucket", selector), start, end)
    if classic:
        return "classic", _label_values(classic)
    native = _series(client, series(name, selector), start, end)
    return ("native", _label_values(native)) if native else (None, {})


def _preset_counter(client: PrometheusClient, histogram: str, selector: str, start: float,
                    end: float) -> tuple[str, dict[str, set[str]]] | None:
    """The counter of the preset that names this histogram, when its series carry the preset's status label."""
    for preset in PRESETS.values():
        if preset.latency_histogram == histogram:
            values = _label_values(_series(client, series(preset.request_counter, selector), start, end))
            if preset.error_label in values:
                return preset.request_counter, values
    return None


def _counter(client: PrometheusClient, families: dict[str, Any], histogram: str, selector: str, start: float,
             end: float) -> tuple[str, dict[str, set[str]]]:
    """The request counter with a status label (a counter named like the histogram first), else the histogram's
    `_count`; with its label values."""
    stem = re.sub(r"_(request_)?(duration|latency)_(seconds|milliseconds)$", "", histogram)
    counters = sorted((name for name, entries in families.items() if metric_type(entries) == "counter"),
                      key=lambda name: (not name.startswith(stem), -_score(name)))
    for family in counters:
        if not set(re.split(r"[_:]", family.lower())) & {"request", "requests"}:
            continue
        for name in dict.fromkeys((family if family.endswith("_total") else family + "_total", family)):
            values = _label_values(_series(client, series(name, selector), start, end))
            if any(label in values for label in STATUS_LABELS):
                return name, values
    count = histogram + "_count"
    return count, _label_values(_series(client, series(count, selector), start, end))


def _recent(client: PrometheusClient, spec: PrometheusSpec, at: float) -> tuple[dict[float, float], float | None]:
    """p50/p95/p99 (seconds) and the request rate over the lookback, where there was traffic."""
    window = f"{round(LOOKBACK_S)}s"
    suffix, by = ("", "") if spec.histogram == "native" else ("_bucket", " by (le)")
    buckets = f"sum{by} (increase({series(spec.latency_histogram + suffix, spec.selector)}[{window}]))"
    figures = {}
    for q in QUANTILES:
        value = _scalar(client, f"histogram_quantile({q}, {buckets})", at)
        if value is not None and math.isfinite(value) and value > 0:
            figures[q] = value * spec.latency_scale
    rate = _scalar(client, f"sum(rate({series(spec.request_counter, spec.selector)}[{window}]))", at)
    return figures, rate if rate is not None and math.isfinite(rate) and rate > 0 else None


def _routes_answered(client: PrometheusClient, counter: str, selector: str, error_label: str,
                     route_label: str | None, at: float) -> tuple[str, ...] | None:
    """The routes whose 2xx series counted anything in the lookback (a locustfile's GETs should hit those); None
    when the service had no such traffic to tell by."""
    if route_label is None:
        return None
    ok = series(counter, selector, matcher(error_label, "=~", "2.."))
    try:
        result = client.instant("init: routes answered",  # the counter's value: a series born in a burst counts too
                                f"sum by ({route_label}) (max_over_time({ok}[{LOOKBACK_S:.0f}s]))", at)
    except QueryFailed:
        return None
    answered = tuple(sorted(item["metric"].get(route_label, "") for item in result or []
                            if float(item["value"][1]) > 0))
    return answered or None


def _scrape_interval(client: PrometheusClient, jobs: set[str], at: float) -> float | None:
    """The scrape interval (seconds) of the counter's jobs from /api/v1/targets; None when it does not say."""
    try:
        data = client.get("init: targets", "/api/v1/targets", {"state": "active"}, "/api/v1/targets", at)
    except QueryFailed:
        return None
    intervals = {target.get("scrapeInterval") for target in (data or {}).get("activeTargets", [])
                 if target.get("labels", {}).get("job") in jobs}
    intervals.discard(None)
    if len(intervals) != 1:
        return None
    try:
        return parse_duration(str(intervals.pop()))
    except ValueError:
        return None


def _scalar(client: PrometheusClient, query: str, at: float) -> float | None:
    try:
        result = client.instant("init", query, at)
    except QueryFailed:
        return None
    return float(result[0]["value"][1]) if result and "value" in result[0] else None
