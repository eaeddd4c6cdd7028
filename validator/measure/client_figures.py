"""The load generator's own figures as evidence, for gates with `source = "client"`, `"both"` or `"corrected"`.

Latency comes from slagate's client histograms (µs resolution, ≤ 1 % relative error): the steady window for all
traffic, or a Locust request name's whole-run histogram for a gate with a route. Success rate counts the
client's own failures (connection errors, timeouts, 5xx and any failure the locustfile marks).
"""

from collections.abc import Iterable

import numpy as np

from validator.evidence import Measurement, ProportionEvidence, QuantileEvidence, RateEvidence
from validator.load.histogram import LatencyHistogram, upper_edges_us
from validator.load.result import LOAD_FILE, LoadResult
from validator.spec import GateSpec

CLIENT_PREFIX = "client:"


CORRECTED_PREFIX = "client corrected:"


def client_key(gate: GateSpec) -> str:
    """The key of the client figure a gate judges in metrics.json (the corrected latency has its own)."""
    return (CORRECTED_PREFIX if gate.source == "corrected" else CLIENT_PREFIX) + gate.measurement_key


def histogram_evidence(histogram: LatencyHistogram, q: float) -> QuantileEvidence:
    """A quantile of the client histogram as classic cumulative buckets in seconds (each bucket's lower edge
    included, so empty ranges between buckets are never interpolated over)."""
    keys, counts = histogram.buckets()
    uppers = upper_edges_us(keys) / 1e6
    gamma = float(upper_edges_us(np.array([1]))[0])
    bounds: list[float] = []
    cumulative: list[float] = []
    total = 0.0
    for upper, count in zip(uppers, counts, strict=True):
        lower = float(upper) / gamma
        if not bounds or lower > bounds[-1] * (1 + 1e-12):
            bounds.append(lower)
            cumulative.append(total)
        total += float(count)
        bounds.append(float(upper))
        cumulative.append(total)
    bounds.append(float("inf"))
    cumulative.append(total)
    return QuantileEvidence(q, tuple(bounds), tuple(cumulative))


def client_measurements(load: LoadResult, gates: Iterable[GateSpec]) -> dict[str, Measurement]:
    """The client figure of every gate that asks for one, keyed by `client_key`."""
    figures: dict[str, Measurement] = {}
    for gate in gates:
        if gate.source == "server" or gate.is_custom:
            continue
        figures[client_key(gate)] = _figure(load, gate)
    return figures


def _figure(load: LoadResult, gate: GateSpec) -> Measurement:
    name = gate.metric.name
    if gate.selector:
        return Measurement(name, "client", None, "a label selector cannot scope the client's figures; use route")
    if gate.route is not None:
        matching = [s for endpoint, s in load.endpoints.items() if gate.route in (endpoint, endpoint.split(" ")[-1])]
        source = f"client histogram of request name `{gate.route}` ({LOAD_FILE}, whole run incl. warm-up)"
        if not matching:
            return Measurement(name, source, None, f"the load sent no request named `{gate.route}`")
        histogram, requests, failures, seconds = LatencyHistogram(), 0, 0, None
        for stats in matching:  # every method under that name
            histogram.merge(stats.histogram)
            requests, failures = requests + stats.requests, failures + stats.failures
    elif gate.source == "corrected":
        if load.corrected is None:
            return Measurement(name, "client latency from the intended send time", None,
                               "only an open-model load (arrival_rate) has send times to correct from")
        steady, corrected = load.steady_timeline(), load.steady(load.corrected)
        source = f"client histogram from each request's intended send time, steady window ({LOAD_FILE})"
        histogram, failures = corrected.combined(), steady.failures
        requests, seconds = steady.successes + steady.failures, load.window_seconds
    else:
        steady = load.steady_timeline()
        source = f"client histogram, steady window ({LOAD_FILE})"
        histogram, failures = steady.combined(), steady.failures
        requests, seconds = steady.successes + steady.failures, load.window_seconds
    if not requests:
        return Measurement(name, source, None, "the load completed no request")
    if gate.metric.quantile is not None:
        return Measurement(name, source, histogram_evidence(histogram, gate.metric.quantile))
    if name == "success_rate":
        return Measurement(name, source + ", failures as Locust reported them", ProportionEvidence(requests - failures,
                                                                                                  requests))
    if seconds is None or seconds <= 0:
        return Measurement(name, source, None, "a route's client throughput has no steady window")
    return Measurement(name, source, RateEvidence(requests, seconds))
