"""PromQL over exactly the load window, through prometheus-api-client; it measures, never judges.

Every query is evaluated at the window's end over a range equal to the window, so the figures
cover the steady state and nothing else. Each query string and its raw answer is logged so the
report can name the source of every figure.
"""

import math
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import requests
from prometheus_api_client import PrometheusApiClientException, PrometheusConnect
from urllib3.util.retry import Retry

from validator.evidence import Measurement, ProportionEvidence, QuantileEvidence, RateEvidence, ScalarEvidence
from validator.metrics import BUILTIN_METRICS
from validator.spec import GateSpec, PrometheusSpec

WINDOW_PLACEHOLDER = "$window"


class PrometheusUnavailable(RuntimeError):
    """Prometheus could not be reached at all: nothing can be evaluated (exit code 4)."""


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


@dataclass
class QueryLog:
    """Every query sent, with its evaluation time and raw result or error, for metrics.json."""

    entries: list[dict[str, Any]] = field(default_factory=list)

    def add(self, name: str, query: str, at: float, result: Any = None, error: str | None = None) -> None:
        self.entries.append({"name": name, "query": query, "time": at, "result": result, "error": error})


class PrometheusSource:
    """A Prometheus server as the spec describes it, queried over one window at a time."""

    def __init__(self, spec: PrometheusSpec) -> None:
        self.spec = spec
        headers = None
        if spec.bearer_token_env:
            token = os.environ.get(spec.bearer_token_env)
            if not token:
                raise PrometheusUnavailable(
                    f"prometheus.bearer_token_env names {spec.bearer_token_env}, which is not set or empty"
                )
            headers = {"Authorization": f"Bearer {token}"}
        retry = Retry(total=2, backoff_factor=0.3, status_forcelist=(502, 503, 504), allowed_methods=None)
        self.client = PrometheusConnect(url=spec.url, headers=headers, retry=retry, timeout=spec.timeout)
        self.log = QueryLog()

    def instant(self, name: str, query: str, at: float) -> list[dict[str, Any]]:
        """Run one instant query at time `at`; connection failures raise PrometheusUnavailable."""
        return self._logged(name, query, at, lambda: self.client.custom_query(query, params={"time": f"{at:.3f}"}))

    def over_range(self, name: str, query: str, window: Window, step: float) -> list[dict[str, Any]]:
        """Run one range query over the window at `step` seconds; logged like every instant query."""
        start, end = (datetime.fromtimestamp(t, UTC) for t in (window.start, window.end))
        shown = _range_text(query, window, step)
        return self._logged(
            name, shown, window.end, lambda: self.client.custom_query_range(query, start, end, f"{step:g}s")
        )

    def _logged(self, name: str, shown: str, at: float, call: Callable[[], Any]) -> Any:
        """Run one query, logging its answer or its error; a connection failure raises PrometheusUnavailable."""
        try:
            result = call()
        except requests.exceptions.RequestException as error:
            self.log.add(name, shown, at, error=f"unreachable: {error.__class__.__name__}")
            raise self._unreachable(error) from None
        except PrometheusApiClientException as error:
            self.log.add(name, shown, at, error=str(error))
            raise
        self.log.add(name, shown, at, result=result)
        return result

    def _unreachable(self, error: BaseException) -> PrometheusUnavailable:
        return PrometheusUnavailable(f"Prometheus at {self.spec.url} is unreachable ({_short(error)})")

    def wait_for_scrape_after(self, moment: float) -> None:
        """Wait until Prometheus holds a scrape of the request counter taken at or after `moment`."""
        query = f"max(timestamp({self._series(self.spec.request_counter)}))"
        deadline = moment + self.spec.scrape_interval * 2 + 5.0
        while True:
            now = time.time()
            try:
                result = self.client.custom_query(query, params={"time": f"{now:.3f}"})
            except requests.exceptions.RequestException as error:
                raise self._unreachable(error) from None
            except PrometheusApiClientException:
                result = []
            if result and float(result[0]["value"][1]) >= moment:
                return
            if now > deadline:
                return  # measure anyway: missing samples show up as NO_DATA, never as a pass
            time.sleep(0.25)

    def measure(self, window: Window, gates: Iterable[GateSpec]) -> dict[str, Measurement]:
        """All built-in figures plus each custom gate's query, over the window; keyed by metric name."""
        measurements = {**self._latency(window), **self._requests(window)}
        for gate in gates:
            if gate.is_custom:
                measurements[gate.metric.name] = self._custom(gate, window)
        return measurements

    def _series(self, metric: str, *extra_matchers: str) -> str:
        matchers = [m for m in (self.spec.selector, *extra_matchers) if m]
        return f"{metric}{{{','.join(matchers)}}}" if matchers else metric

    def _latency(self, window: Window) -> dict[str, Measurement]:
        buckets = (
            f"sum by (le) (increase({self._series(self.spec.latency_histogram + '_bucket')}[{window.promql_range}]))"
        )
        quantile_metrics = [m for m in BUILTIN_METRICS.values() if m.quantile is not None]
        own = {m.name: f"histogram_quantile({m.quantile}, {buckets})" for m in quantile_metrics}
        for metric in quantile_metrics:  # Prometheus's own figure, logged beside ours as a cross-check
            self._try(f"{metric.name} (histogram_quantile)", own[metric.name], window)
        result, error = self._try("latency buckets", buckets, window)
        sources = {name: f"PromQL `{buckets}` at {window.end:.3f}, interpolated as `{q}`" for name, q in own.items()}
        vector = None if error else _bucket_vector(result)
        if vector is None:
            error = error or "the latency bucket query returned no usable series"
            return {m.name: Measurement(m.name, sources[m.name], None, error) for m in quantile_metrics}
        bounds, counts = vector
        windows, per_window = self._window_buckets(window, bounds)
        suffix = f"; per-window buckets `{per_window}`" if windows else ""
        return {
            m.name: Measurement(m.name, sources[m.name] + suffix, QuantileEvidence(m.quantile, bounds, counts, windows))
            for m in quantile_metrics
        }

    def _window_buckets(self, window: Window, bounds: tuple[float, ...]) -> tuple[tuple[np.ndarray, ...], str]:
        """Per-window cumulative bucket counts (one run), for the block bootstrap, () when unavailable; and the
        range query as logged.

        The raw `_bucket` counters at step = max(1 s, scrape interval), differenced per series (a drop is a
        counter reset: the new value is the increase, as in `increase()`), then summed by `le`.
        """
        step = max(1.0, self.spec.scrape_interval)
        n_windows = round(window.seconds / step)
        query = self._series(self.spec.latency_histogram + "_bucket")
        shown = _range_text(query, window, step)
        if n_windows < 2:
            return (), shown
        try:
            result = self.over_range("latency buckets per window", query, window, step)
        except PrometheusApiClientException:
            return (), shown
        matrix = window_increases(result, bounds, window.start, step, n_windows)
        return (() if matrix is None else (matrix,)), shown

    def _requests(self, window: Window) -> dict[str, Measurement]:
        counter, rng = self.spec.request_counter, window.promql_range
        total_query = f"sum(increase({self._series(counter)}[{rng}]))"
        ok_matcher = f'{self.spec.error_label}!~"{self.spec.error_regex}"'
        ok_query = f"sum(increase({self._series(counter, ok_matcher)}[{rng}]))"
        total, total_error = self._scalar("requests total", total_query, window)
        ok, ok_error = self._scalar("requests without error", ok_query, window)
        success_source = f"PromQL `{ok_query}` ÷ `{total_query}` at {window.end:.3f}"
        throughput_source = f"PromQL `{total_query}` ÷ {window.seconds:.3f} s at {window.end:.3f}"
        error = total_error or ok_error
        if error is None and total is not None and total <= 0:
            error = "no requests were counted in the window"
        if error is not None or total is None or ok is None:
            error = error or "no requests were counted in the window"
            return {
                "success_rate": Measurement("success_rate", success_source, None, error),
                "throughput": Measurement("throughput", throughput_source, None, total_error or error),
            }
        return {
            "success_rate": Measurement("success_rate", success_source, ProportionEvidence(min(ok, total), total)),
            "throughput": Measurement("throughput", throughput_source, RateEvidence(total, window.seconds)),
        }

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
            return self.instant(name, query, window.end), None
        except PrometheusApiClientException as error:
            return None, f"query failed: {_short(error)}"

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
            return None, "the query returned no series"
        if len(samples) > 1:
            return None, f"the query returned {len(samples)} series; a gate needs exactly one number"
        value = float(samples[0][1])
        if math.isnan(value):
            return None, "the query returned NaN"
        return value, None


def _bucket_vector(result: Any) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """(upper bounds, cumulative counts) sorted by `le`, or None when the answer holds no buckets."""
    if not isinstance(result, list):
        return None
    pairs = sorted(
        (float(series["metric"]["le"]), float(series["value"][1]))
        for series in result
        if "le" in series.get("metric", {})
    )
    if len(pairs) < 2 or not math.isinf(pairs[-1][0]):
        return None
    return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)


def window_increases(
    result: Any, bounds: tuple[float, ...], start: float, step: float, n_windows: int
) -> np.ndarray | None:
    """(n_windows, len(bounds)) cumulative bucket increases per window from a range query of raw `_bucket`
    series; None when a series' `le` is not among `bounds` (the windows could not be trusted)."""
    if not isinstance(result, list):
        return None
    columns = {bound: i for i, bound in enumerate(bounds)}
    matrix = np.zeros((n_windows, len(bounds)))
    for series in result:
        column = columns.get(float(series.get("metric", {}).get("le", "nan")))
        if column is None:
            return None
        samples = np.asarray(series.get("values", []), dtype=float).reshape(-1, 2)
        if samples.shape[0] < 2:
            continue
        values = samples[:, 1]
        steps = values[1:] - values[:-1]
        increases = np.where(steps >= 0, steps, values[1:])  # a counter reset restarts from zero
        index = np.round((samples[1:, 0] - start) / step).astype(int) - 1
        keep = (index >= 0) & (index < n_windows) & np.isfinite(increases)
        np.add.at(matrix[:, column], index[keep], increases[keep])
    return np.maximum.accumulate(matrix, axis=1)


def _short(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else error.__class__.__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _range_text(query: str, window: Window, step: float) -> str:
    """A range query as the log and the report show it."""
    start, end = (datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds") for t in (window.start, window.end))
    return f"{query} (range {start} → {end}, step {step:g}s)"
