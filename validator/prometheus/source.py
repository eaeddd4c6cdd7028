"""PromQL over exactly the load window; it measures, never judges.

Every query is evaluated at the window's end over a range equal to the window, so the figures cover the steady
state and nothing else. A gate with a route or selector gets its own figures under its own measurement key.
Each query and its raw answer is logged so the report can name the source of every figure.
"""

import math
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from validator.errors import UsageError
from validator.evidence import Measurement, ProportionEvidence, QuantileEvidence, RateEvidence, ScalarEvidence
from validator.prometheus.client import PrometheusClient, PrometheusUnavailable, QueryFailed, range_text
from validator.prometheus.scope import measure_scope
from validator.spec import GateSpec, PrometheusSpec
from validator.spec.metrics import BUILTIN_METRICS
from validator.spec.promql import matcher, series

WINDOW_PLACEHOLDER = "$window"
QUANTILES = {m.name: m.quantile for m in BUILTIN_METRICS.values() if m.quantile is not None}  # name → q


POLL_S = 0.25  # the longest pause between two looks for the scrape after the window
INGEST_S = 0.05  # from a scrape's timestamp (when it started) until its samples answer queries, on a small target


def pause_before_next_look(latest: float | None, moment: float, interval: float, now: float) -> float:
    """Seconds to wait before asking again for a scrape taken at or after `moment`: until INGEST_S after the first
    scrape due then on the target's schedule (`latest`, the newest scrape's timestamp, plus whole scrape
    intervals), and never more than POLL_S; POLL_S when no scrape is known or the due one is late."""
    if latest is None:
        return POLL_S
    due = latest + interval * max(1, math.ceil((moment - latest) / interval))
    wake = due + INGEST_S
    return min(POLL_S, wake - now) if wake > now else POLL_S


@dataclass(frozen=True)
class Window:
    """The steady-state window of a load run, as Unix timestamps."""

    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def promql_range(self) -> str:
        """The window as a PromQL range, to the millisecond (e.g. '25000ms')."""
        return f"{max(1, round(self.seconds * 1000))}ms"


class PrometheusSource:
    """A Prometheus server as the spec describes it, queried over one window at a time."""

    def __init__(self, spec: PrometheusSpec, environ: Mapping[str, str] | None = None) -> None:
        self.spec = spec
        self.client = PrometheusClient(spec, environ)
        self.log = self.client.log
        self.scope: dict[str, Any] = {}
        self.routes: dict[str, dict[str, float | None]] = {}

    def instant(self, name: str, query: str, at: float) -> Any:
        """One instant query at `at`; PrometheusUnavailable when the server cannot be used, QueryFailed on error."""
        return self.client.instant(name, query, at)

    def check_spec(self, gates: Iterable[GateSpec], at: float) -> None:
        """Send every matcher the spec contributes once, so a selector or regex that is not valid PromQL stops the
        run before any load (UsageError naming the key and quoting Prometheus)."""
        probes = [("prometheus.selector", self.spec.selector, ""), ("prometheus.error_regex", self.spec.selector,
                  self._error_matcher())]
        probes += [(f"gate '{g.name}' selector", self.spec.selector, g.selector) for g in gates if g.selector]
        for key, base, extra in probes:
            query = f"count({series(self.spec.request_counter, base, extra)})"
            try:
                self.instant(f"check {key}", query, at)
            except QueryFailed as error:
                raise UsageError(
                    f"{self.spec.spec_file}: {key}: expected valid PromQL label matchers; Prometheus said: "
                    f"{error.prometheus_error} (query `{query}`)"
                ) from None

    def wait_for_scrape_after(self, moment: float) -> None:
        """Wait until Prometheus holds a scrape of the request counter taken at or after `moment`, looking again
        just after the scrape the target's schedule makes due (`pause_before_next_look`)."""
        query = f"max(timestamp({self._series(self.spec.request_counter)}))"
        deadline = moment + self.spec.scrape_interval * 2 + 5.0
        while True:
            now = time.time()
            try:
                result = self.client.instant("wait for scrape", query, now)
            except QueryFailed:
                result = []
            latest = float(result[0]["value"][1]) if result else None
            if latest is not None and latest >= moment:
                return
            if now > deadline:
                return  # measure anyway: missing samples show up as NO_DATA, never as a pass
            time.sleep(pause_before_next_look(latest, moment, self.spec.scrape_interval, time.time()))

    def measure(self, window: Window, gates: Iterable[GateSpec]) -> dict[str, Measurement]:
        """Every server-side figure the gates need over the window, keyed by measurement key; the scope facts of
        the spec's selector land in `self.scope`."""
        gates = list(gates)
        self.scope = measure_scope(self.client, self.spec, window.start, window.end)
        self.routes = self._per_route(window)
        scopes: dict[str, tuple[str, ...]] = {"": ()}
        for gate in gates:
            if gate.scope and not gate.is_custom and gate.source != "client":
                scopes[gate.scope] = self._gate_matchers(gate)
        measurements: dict[str, Measurement] = {}
        for scope, matchers in scopes.items():
            figures = {**self._latency(window, matchers, cross_check=not scope), **self._requests(window, matchers)}
            if scope and not self._matches(window, matchers):
                figures = {name: _missing(m, f"the gate's scope ({scope}) matches no series") for name, m in
                           figures.items()}
            measurements.update({(f"{name} [{scope}]" if scope else name): m for name, m in figures.items()})
        if self.scope.get("series") == 0:
            why = f"the selector matches no series of {self.spec.request_counter} in the window"
            measurements.update({name: _missing(m, why) for name, m in measurements.items() if "[" not in name})
        for gate in gates:
            if gate.is_custom:
                measurements[gate.metric.name] = self._custom(gate, window)
        return measurements

    def _per_route(self, window: Window) -> dict[str, dict[str, float | None]]:
        """Requests and Prometheus's own p50/p95/p99 (seconds) per value of the route label, for the report's
        per-route table; {} without a route label or when the queries fail (the table then says so)."""
        label, rng = self.spec.route_label, window.promql_range
        if label is None:
            return {}
        routes: dict[str, dict[str, float | None]] = {}
        counted, _ = self._try("requests per route", f"sum by ({label}) (increase("
                               f"{self._series(self.spec.request_counter)}[{rng}]))", window)
        for item in counted or []:
            routes.setdefault(item["metric"].get(label, ""), {})["requests"] = float(item["value"][1])
        buckets = self._buckets_by((label,), (), rng)
        for q in (0.5, 0.95, 0.99):
            answer, _ = self._try(f"p{q * 100:g} per route", f"histogram_quantile({q}, {buckets})", window)
            for item in answer or []:
                value = float(item["value"][1])
                figure = value * self.spec.latency_scale if math.isfinite(value) else None
                routes.setdefault(item["metric"].get(label, ""), {})[f"p{q * 100:g}"] = figure
        return routes

    def _gate_matchers(self, gate: GateSpec) -> tuple[str, ...]:
        matchers = []
        if gate.route is not None:
            if self.spec.route_label is None:
                raise UsageError(f"{self.spec.spec_file}: gates: gate '{gate.name}' has a route but "
                                 "prometheus.route_label is not set (and the preset has none)")
            matchers.append(matcher(self.spec.route_label, "=", gate.route))
        if gate.selector:
            matchers.append(gate.selector)
        return tuple(matchers)

    def _series(self, metric: str, *extra: str) -> str:
        return series(metric, self.spec.selector, *extra)

    def _error_matcher(self) -> str:
        return matcher(self.spec.error_label, "!~", self.spec.error_regex)

    def _matches(self, window: Window, matchers: tuple[str, ...]) -> bool:
        query = f"count(last_over_time({self._series(self.spec.request_counter, *matchers)}[{window.promql_range}]))"
        result, error = self._try("scope series", query, window)
        return error is None and bool(result)

    @property
    def _native(self) -> bool:
        return self.spec.histogram == "native"

    def _latency_series(self, *matchers: str) -> str:
        """The series holding the latency buckets: the native histogram itself, or the classic `_bucket` ones."""
        suffix = "" if self._native else "_bucket"
        return self._series(self.spec.latency_histogram + suffix, *matchers)

    def _buckets_by(self, labels: tuple[str, ...], matchers: tuple[str, ...], rng: str) -> str:
        """The latency buckets' increase over `rng` summed by `labels` (and by `le` for a classic histogram)."""
        by = labels if self._native else ("le", *labels)
        summed = f"sum by ({', '.join(by)}) " if by else "sum"
        return f"{summed}(increase({self._latency_series(*matchers)}[{rng}]))"

    def _latency(self, window: Window, matchers: tuple[str, ...], cross_check: bool) -> dict[str, Measurement]:
        bucket_series = self._latency_series(*matchers)
        buckets = self._buckets_by((), matchers, window.promql_range)
        own = {name: f"histogram_quantile({q}, {buckets})" for name, q in QUANTILES.items()}
        if cross_check:
            for name in QUANTILES:  # Prometheus's own figure, logged beside ours as a cross-check
                self._try(f"{name} (histogram_quantile)", own[name], window)
        result, error = self._try("latency buckets", buckets, window)
        unit = "" if self.spec.latency_scale == 1 else f" (bounds in {self.spec.latency_unit}, converted to seconds)"
        kind = " (native histogram)" if self._native else ""
        sources = {n: f"PromQL `{buckets}`{kind} at {window.end:.3f}, interpolated as `{q}`{unit}"
                   for n, q in own.items()}
        read = native_vector if self._native else _bucket_vector
        vector = None if error else read(result, self.spec.latency_scale)
        if vector is None:
            error = error or "the latency bucket query returned no usable series (finite counts up to an +Inf bucket)"
            return {name: Measurement(name, sources[name], None, error) for name in QUANTILES}
        bounds, counts = vector
        windows, per_window = self._window_buckets(window, bounds, bucket_series)
        suffix = f"; per-window buckets `{per_window}`" if windows else ""
        skipped = [] if self._native else unparsable_le(result)
        if skipped:
            suffix += f"; skipped as Prometheus does, series whose le is not a number: {', '.join(map(repr, skipped))}"
        return {
            name: Measurement(name, sources[name] + suffix, QuantileEvidence(q, bounds, counts, windows))
            for name, q in QUANTILES.items()
        }

    def _window_buckets(
        self, window: Window, bounds: tuple[float, ...], query: str
    ) -> tuple[tuple[np.ndarray, ...], str]:
        """Per-window cumulative bucket counts (one run) for the block bootstrap, () when unavailable; and the
        range query as logged. The raw `_bucket` counters at step = max(1 s, scrape interval), differenced per
        series (a drop is a counter reset), then summed by `le`."""
        step = max(1.0, self.spec.scrape_interval)
        n_windows = round(window.seconds / step)
        shown = range_text(query, window.start, window.end, step)
        if n_windows < 2:
            return (), shown
        try:
            result = self.client.over_range("latency buckets per window", query, window.start, window.end, step)
        except QueryFailed:
            return (), shown
        if self._native:
            matrix = native_window_increases(result, bounds, window.start, step, n_windows, self.spec.latency_scale)
            return (() if matrix is None else (matrix,)), shown
        scaled = [{**s, "metric": {**s.get("metric", {}), "le": _scaled_le(s, self.spec.latency_scale)}}
                  for s in result or []]
        matrix = window_increases(scaled, bounds, window.start, step, n_windows)
        return (() if matrix is None else (matrix,)), shown

    def _requests(self, window: Window, matchers: tuple[str, ...]) -> dict[str, Measurement]:
        counter, rng, label = self.spec.request_counter, window.promql_range, self.spec.error_label
        total_query = f"sum(increase({self._series(counter, *matchers)}[{rng}]))"
        ok_query = f"sum(increase({self._series(counter, *matchers, self._error_matcher())}[{rng}]))"
        labels_query = f"sum by ({label}) (increase({self._series(counter, *matchers)}[{rng}]))"
        total, total_error = self._scalar("requests total", total_query, window)
        ok, ok_error = self._scalar("requests without error", ok_query, window)
        by_status, status_error = self._try(f"requests by {label}", labels_query, window)
        if not matchers and status_error is None:
            self._record_reading(window, by_status)
        success_source = f"PromQL `{ok_query}` ÷ `{total_query}` at {window.end:.3f}"
        throughput_source = f"PromQL `{total_query}` ÷ {window.seconds:.3f} s at {window.end:.3f}"
        error = total_error or ok_error
        if error is None and total is not None and total <= 0:
            error = "no requests were counted in the window"
        throughput = (
            Measurement("throughput", throughput_source, None, total_error or error)
            if total_error or total is None or total <= 0
            else Measurement("throughput", throughput_source, RateEvidence(total, window.seconds))
        )
        if error is None and status_error is None:
            error = _missing_error_label(by_status, counter, label)
        if error is not None or total is None or ok is None:
            return {"success_rate": Measurement("success_rate", success_source, None,
                                                error or "no requests were counted in the window"),
                    "throughput": throughput}
        seen = _status_values(by_status, label)
        success_source += f"; `{label}` values seen: {seen}" if seen else ""
        return {
            "success_rate": Measurement("success_rate", success_source, ProportionEvidence(min(ok, total), total)),
            "throughput": throughput,
        }

    def _record_reading(self, window: Window, by_status: Any) -> None:
        """The spec's reading of the service as facts in `self.scope`: each value the error label took in the window
        with its requests, and which of them `error_regex` matched (as Prometheus matched them)."""
        label, counter = self.spec.error_label, self.spec.request_counter
        errors = self._series(counter, matcher(label, "=~", self.spec.error_regex))
        errors_query = f"sum by ({label}) (increase({errors}[{window.promql_range}]))"
        matched, error = self._try(f"errors by {label}", errors_query, window)
        self.scope["error_label"], self.scope["error_regex"] = label, self.spec.error_regex
        self.scope["error_label_values"] = _label_counts(by_status, label)
        self.scope["unlabelled_requests"] = _unlabelled(by_status, label)
        self.scope["error_values"] = None if error is not None else _label_counts(matched, label)

    def _custom(self, gate: GateSpec, window: Window) -> Measurement:
        assert gate.query is not None
        query = gate.query.replace(WINDOW_PLACEHOLDER, window.promql_range)
        value, error = self._scalar(gate.name, query, window)
        source = f"PromQL `{query}` at {window.end:.3f}"
        if error is not None or value is None:
            return Measurement(gate.metric.name, source, None, error or "no value")
        return Measurement(gate.metric.name, source, ScalarEvidence(value))

    def _try(self, name: str, query: str, window: Window) -> tuple[Any, str | None]:
        try:
            return self.client.instant(name, query, window.end), None
        except QueryFailed as error:
            return None, str(error)

    def _scalar(self, name: str, query: str, window: Window) -> tuple[float | None, str | None]:
        """One number from a query that must return exactly one sample (a scalar or a one-series vector)."""
        result, error = self._try(name, query, window)
        if error is not None:
            return None, error
        if isinstance(result, list) and len(result) == 2 and not isinstance(result[0], dict):
            samples = [result]  # a scalar result arrives as a bare [time, value]
        else:
            samples = [series["value"] for series in result or [] if "value" in series]
        if not samples:
            return None, f"query '{name}' returned no series"
        if len(samples) > 1:
            return None, f"query '{name}' returned {len(samples)} series; a gate needs exactly one number"
        value = float(samples[0][1])
        if not math.isfinite(value):
            return None, f"query '{name}' returned {value}, not a finite number"
        return value, None


def _missing(measurement: Measurement, why: str) -> Measurement:
    return Measurement(measurement.metric, measurement.source, None, why)


def _missing_error_label(result: Any, counter: str, label: str) -> str | None:
    """Why the counter cannot show errors (requests counted on series without the error label), else None."""
    unlabelled = _unlabelled(result, label)
    if unlabelled <= 0:
        return None
    return (f"the request counter {counter} has no `{label}` label on series that counted {unlabelled:.0f} "
            f"requests in the window, so errors cannot be told from successes (set prometheus.error_label to the "
            f"counter's status label, or judge this gate with source = \"client\")")


def _unlabelled(result: Any, label: str) -> float:
    """Requests a `sum by (label)` answer counted on series without `label`."""
    return sum(float(s["value"][1]) for s in result or [] if label not in s.get("metric", {}))


def _label_counts(result: Any, label: str) -> dict[str, float]:
    """Each value of `label` in a `sum by (label)` answer with its count."""
    return {s["metric"][label]: float(s["value"][1]) for s in result or [] if label in s.get("metric", {})}


def _status_values(result: Any, label: str) -> str:
    """`200 (1234), 500 (3)`: each value of the error label with its requests in the window."""
    pairs = sorted((s["metric"][label], float(s["value"][1])) for s in result or [] if label in s.get("metric", {}))
    return ", ".join(f"{value} ({count:.0f})" for value, count in pairs)


_GO_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_GO_HEX = re.compile(r"[+-]?0[xX](?=[_.]*[0-9a-fA-F])(?:_?[0-9a-fA-F])*(?:\.(?:[0-9a-fA-F]_?)*)?[pP][+-]?[0-9]+")
_GO_SPECIAL = re.compile(r"[+-]?(?:inf|infinity)|nan", re.IGNORECASE)


def parse_le(text: object) -> float | None:
    """An `le` label read as Prometheus reads it (Go's strconv.ParseFloat), None for what Go rejects: text with
    spaces or stray underscores, and numbers beyond float64 such as 1e400. histogram_quantile skips such series."""
    if not isinstance(text, str):
        return None
    if _GO_SPECIAL.fullmatch(text):
        return float(text)
    if _GO_HEX.fullmatch(text):
        try:
            value = float.fromhex(text.replace("_", ""))
        except (ValueError, OverflowError):
            return None
    elif _GO_DECIMAL.fullmatch(text):
        value = float(text)
    else:
        return None
    return value if math.isfinite(value) else None


def unparsable_le(result: Any) -> list[str]:
    """The `le` values of an answer's series that Prometheus skips (parse_le rejects them), as written."""
    if not isinstance(result, list):
        return []
    values = (series.get("metric", {}).get("le") for series in result if isinstance(series, dict))
    return sorted({str(le) for le in values if le is not None and parse_le(le) is None})


def _scaled_le(item: Mapping[str, Any], scale: float) -> str:
    le = parse_le(item.get("metric", {}).get("le"))
    if le is None:
        return str(item.get("metric", {}).get("le"))  # left unparsable, so window_increases skips it as well
    return repr(le * scale) if math.isfinite(le) else repr(le)


def _bucket_vector(result: Any, scale: float = 1.0) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """(upper bounds in seconds, cumulative counts) sorted by `le`, each count raised to the running maximum as
    histogram_quantile does, or None when the answer holds no buckets or a count that is not a finite number (the
    figure is then missing: never judged on NaN); a series whose `le` Prometheus cannot parse is skipped."""
    if not isinstance(result, list):
        return None
    read = ((parse_le(series.get("metric", {}).get("le")), series) for series in result)
    pairs = sorted((le * scale, float(series["value"][1])) for le, series in read if le is not None)
    if len(pairs) < 2 or not math.isinf(pairs[-1][0]) or not all(math.isfinite(count) for _, count in pairs):
        return None
    counts = np.maximum.accumulate([count for _, count in pairs])  # what histogram_quantile's ensureMonotonic does
    return tuple(p[0] for p in pairs), tuple(float(count) for count in counts)


def _native_buckets(histogram: Mapping[str, Any], scale: float) -> dict[tuple[float, float], float]:
    """A native histogram sample's buckets as (lower, upper) in seconds → count; the zero bucket starts at 0."""
    buckets: dict[tuple[float, float], float] = {}
    for _, lower, upper, count in histogram.get("buckets") or []:
        low, high = max(0.0, float(lower)) * scale, float(upper) * scale
        if high > 0:
            buckets[(low, high)] = buckets.get((low, high), 0.0) + float(count)
    return buckets


def _cumulative(buckets: Mapping[tuple[float, float], float]) -> tuple[list[float], list[float]]:
    """Classic cumulative buckets from native ones: each upper edge, and each gap's lower edge at the count
    below it, so interpolation never spans a range with no bucket."""
    bounds: list[float] = []
    cumulative: list[float] = []
    total = 0.0
    for (low, high), count in sorted(buckets.items(), key=lambda item: item[0][1]):
        if low > 0 and (not bounds or low > bounds[-1] * (1 + 1e-12)):
            bounds.append(low)
            cumulative.append(total)
        total += count
        bounds.append(high)
        cumulative.append(total)
    return bounds, cumulative


def native_vector(result: Any, scale: float = 1.0) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """(upper bounds in seconds, cumulative counts) of a `sum(increase(<native histogram>))` answer, or None when
    it holds no histogram with observations."""
    if not isinstance(result, list) or len(result) != 1 or "histogram" not in result[0]:
        return None
    histogram = result[0]["histogram"][1]
    bounds, cumulative = _cumulative(_native_buckets(histogram, scale))
    if not bounds:
        return None
    total = max(float(histogram.get("count", 0.0)), cumulative[-1])
    return (*bounds, math.inf), (*cumulative, total)


def native_window_increases(
    result: Any, bounds: tuple[float, ...], start: float, step: float, n_windows: int, scale: float = 1.0
) -> np.ndarray | None:
    """(n_windows, len(bounds)) cumulative bucket increases per window from a range query of raw native histogram
    series, each series differenced sample to sample (a falling count is a reset); None when a bucket's upper edge
    is not among `bounds` (the windows could not be trusted)."""
    if not isinstance(result, list):
        return None
    columns = {bound: i for i, bound in enumerate(bounds)}
    matrix = np.zeros((n_windows, len(bounds)))
    for item in result:
        samples = item.get("histograms") or []
        for (_, before), (at, after) in zip(samples, samples[1:], strict=False):
            index = round((float(at) - start) / step) - 1
            if not 0 <= index < n_windows:
                continue
            reset = float(after.get("count", 0)) < float(before.get("count", 0))
            earlier = {} if reset else _native_buckets(before, scale)
            for edges, count in _native_buckets(after, scale).items():
                increase = count - earlier.get(edges, 0.0)
                if increase <= 0:
                    continue
                column = columns.get(edges[1])
                if column is None:
                    return None
                matrix[index, column] += increase
    return np.cumsum(matrix, axis=1)


def window_increases(
    result: Any, bounds: tuple[float, ...], start: float, step: float, n_windows: int
) -> np.ndarray | None:
    """(n_windows, len(bounds)) cumulative bucket increases per window from a range query of raw `_bucket`
    series; None when a series' `le` is not among `bounds` (the windows could not be trusted)."""
    if not isinstance(result, list):
        return None
    columns = {bound: i for i, bound in enumerate(bounds)}
    matrix = np.zeros((n_windows, len(bounds)))
    for item in result:
        le = parse_le(item.get("metric", {}).get("le"))
        if le is None:
            continue  # Prometheus skips a series whose `le` it cannot parse
        column = columns.get(le)
        if column is None:
            return None
        samples = np.asarray(item.get("values", []), dtype=float).reshape(-1, 2)
        if samples.shape[0] < 2:
            continue
        values = samples[:, 1]
        steps = values[1:] - values[:-1]
        increases = np.where(steps >= 0, steps, values[1:])  # a counter reset restarts from zero
        index = np.round((samples[1:, 0] - start) / step).astype(int) - 1
        keep = (index >= 0) & (index < n_windows) & np.isfinite(increases)
        np.add.at(matrix[:, column], index[keep], increases[keep])
    return np.maximum.accumulate(matrix, axis=1)


__all__ = ["PrometheusSource", "PrometheusUnavailable", "QueryFailed", "WINDOW_PLACEHOLDER", "Window"]
