"""The report's per-route and per-side words: each endpoint's client figures, each scoped or client-judged gate
with the server's and the client's figure side by side, coarse-bucket recommendations, and what Prometheus said
beyond the figures (warnings, retries, an unverified certificate)."""

import math
from typing import Any

from validator.judge.gates import GateResult
from validator.load.histogram import LatencyHistogram
from validator.load.result import LoadResult
from validator.measure.record import MetricsRecord
from validator.report.markdown import cell
from validator.spec.units import format_seconds, format_value

QUANTILES = (0.5, 0.95, 0.99)


def routes_section(results: list[GateResult], load: LoadResult | None, metrics: MetricsRecord) -> dict[str, Any]:
    """Everything the template's per-route, resolution and Prometheus-notes blocks show."""
    return {
        "endpoints": _endpoints(load, metrics.routes),
        "sides": [_side_row(r) for r in results if r.gate.scope or r.gate.source != "server"],
        "resolutions": [_resolution(r) for r in results if _resolved(r) is not None],
        "prometheus_notes": _prometheus_notes(metrics),
    }


def _endpoints(load: LoadResult | None, server: dict[str, dict[str, float | None]]) -> list[dict[str, str]]:
    """One row per route: the client's requests and quantiles (Locust request names, methods merged) beside the
    server's (Prometheus's histogram_quantile per value of the route label), "—" where a side has none."""
    clients: dict[str, list[Any]] = {}
    for endpoint, stats in (load.endpoints if load is not None else {}).items():
        name = endpoint.split(" ", 1)[-1]
        entry = clients.setdefault(name, [0, 0, LatencyHistogram()])
        entry[0], entry[1] = entry[0] + stats.requests, entry[1] + stats.failures
        entry[2].merge(stats.histogram)
    rows = []
    for name in sorted(set(clients) | set(server)):
        requests, failures, histogram = clients.get(name, [None, None, LatencyHistogram()])
        theirs = server.get(name, {})
        row = {"name": cell(name), "requests": "—" if requests is None else f"{requests} ({failures} failed)",
               "server_requests": "—" if theirs.get("requests") is None else f"{theirs['requests']:.0f}"}
        for q in QUANTILES:
            key = f"p{q * 100:g}"
            figure = theirs.get(key)
            row[key] = f"{_quantile(histogram, q)} / {'—' if figure is None else format_seconds(figure)}"
        rows.append(row)
    return rows


def _quantile(histogram: LatencyHistogram, q: float) -> str:
    return format_seconds(histogram.quantile(q) / 1e6) if histogram.total else "—"


def _side_row(result: GateResult) -> dict[str, str]:
    server = result if result.side == "server" else result.beside
    client = result if result.side == "client" else result.beside
    return {
        "gate": cell(result.gate.name),
        "scope": cell(result.gate.scope or "all traffic"),
        "judged_on": result.gate.source,
        "server": _figure(server),
        "client": _figure(client),
        "status": result.status.value,
    }


def _figure(result: GateResult | None) -> str:
    if result is None:
        return "not measured"
    if result.value is None:
        return cell(f"missing ({result.reason})")
    unit, i = result.gate.metric.unit, result.value
    shown = f"{format_value(i.estimate, unit)} [{format_value(i.low, unit)}, {format_value(i.high, unit)}]"
    return f"{shown} ({result.status.value})"


def _resolved(result: GateResult) -> GateResult | None:
    if result.resolution is not None:
        return result
    return result.beside if result.beside is not None and result.beside.resolution is not None else None


def _resolution(result: GateResult) -> dict[str, str]:
    judged = _resolved(result)
    assert judged is not None and judged.resolution is not None
    r = judged.resolution
    high = format_seconds(r.bucket_high) if math.isfinite(r.bucket_high) else "+Inf"
    boundaries = ", ".join(f"{b:g}" for b in r.recommended) or "more boundaries between the edges"
    return {
        "gate": cell(result.gate.name),
        "quantile": f"p{r.quantile * 100:g}",
        "bucket": f"{format_seconds(r.bucket_low)}–{high}",
        "needs": f"the bound {format_seconds(r.limit)}"
        if r.limit is not None
        else f"a change of {r.tolerance * 100 if r.tolerance else 0:g} %",
        "recommended": boundaries,
    }


def _prometheus_notes(metrics: MetricsRecord) -> list[str]:
    notes = []
    if metrics.tls_insecure:
        notes.append("TLS certificate of Prometheus **not verified** (`prometheus.tls_insecure = true`)")
    for query in metrics.queries:
        for warning in query.get("warnings") or []:
            notes.append(cell(f"Prometheus warned on '{query['name']}': {warning}"))
        retries = query.get("retries") or []
        if retries:
            waited = sum(r.get("wait_s", 0) for r in retries)
            last = retries[-1].get("error", "")
            notes.append(
                cell(f"'{query['name']}' was retried {len(retries)} time(s), {waited:.1f} s in all (last: {last})")
            )
    return notes
