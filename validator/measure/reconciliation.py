"""Client against server for every count both sides measure: requests, failures, success rate and throughput.

The load generator and the service count the same requests over the same steady window, so their counts can differ
only by what the scrape window explains: Prometheus's `increase()` sees the counter at scrapes, at most one scrape
interval inside each edge of the window, and extrapolates over the rest. The requests that fell in those edges are
the only honest gap; a gap beyond `Z` standard deviations of that count (plus `SLACK` for the extrapolation's
fractions) means the spec's reading of the service is wrong or other traffic is in scope. It is a measurement
warning naming the most likely cause from the facts at hand, and a run with one is never GO.
"""

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from validator.load.result import LoadResult

Z = 3.0  # standard deviations of the edge count a gap may reach (two-sided 0.27 % per figure if it were normal)
SLACK = 2.0  # requests: increase()'s extrapolation returns fractions, and a count of zero has no spread
EDGES = 2.0  # scrape intervals the window's edges can hide from Prometheus (up to one at each end)
NO_RESPONSE = "none"  # the status the recorder gives a request that got no HTTP response


class Cause(StrEnum):
    """The most likely reason a client and a server count disagree, from the facts of the run."""

    REGEX_MATCHES_NONE = "error_regex_matches_none"  # no value the error label took is counted as an error
    REGEX_MISSES_STATUSES = "error_regex_misses_client_statuses"  # the values the client failed with are not
    FAILURES_OUT_OF_SCOPE = "failures_out_of_scope"  # the server's total lacks about the client's failures
    NEVER_REACHED = "never_reached_service"  # the client's failures got no HTTP response
    CLIENT_ONLY_FAILURES = "client_only_failures"  # HTTP 4xx or locustfile-marked failures the server counts as ok
    OTHER_TRAFFIC = "other_traffic_in_scope"  # the server counted more requests than the client sent
    PARTIAL_SCOPE = "partial_scope"  # the server counted fewer requests: the selector sees part of this traffic
    SERVER_ONLY_ERRORS = "server_only_errors"  # errors the client never saw


@dataclass(frozen=True)
class ServerCounts:
    """What Prometheus counted in the window under the spec's reading: requests, errors and the error label."""

    requests: float | None  # increase() of the request counter, every value of the error label
    errors: float | None  # the part `error_regex` counts as errors; None when it could not be told
    values: Mapping[str, float]  # each value of the error label in the window → its requests
    error_values: Mapping[str, float] | None  # the values `error_regex` matched → their requests
    unlabelled: float  # requests counted on series without the error label
    error_label: str
    error_regex: str
    selector: str
    counter: str
    scrape_interval: float


@dataclass(frozen=True)
class ClientCounts:
    """What the load generator counted in the same steady window, with the spread of its per-second counts."""

    requests: int
    failures: int
    seconds: float
    requests_dispersion: float  # variance ÷ mean of the per-second request counts (1 for Poisson arrivals)
    failures_dispersion: float
    failure_statuses: Mapping[str, int]  # the run's failures by HTTP status (NO_RESPONSE: no response)

    @classmethod
    def of(cls, load: LoadResult) -> "ClientCounts":
        """The steady window's counts of one load result (failure statuses from the whole run's error groups)."""
        steady = load.steady_timeline()
        slots = max(1, round(load.window_seconds / steady.window_seconds))
        first = round((load.window_start - load.origin) / steady.window_seconds)
        requests, failures = np.zeros(slots), np.zeros(slots)
        for window in steady.windows():
            index = window.index - first
            if 0 <= index < slots:
                requests[index] += window.successes + window.failures
                failures[index] += window.failures
        statuses: dict[str, int] = {}
        for group in load.errors:
            statuses[group.status] = statuses.get(group.status, 0) + group.count
        return cls(
            requests=steady.successes + steady.failures,
            failures=steady.failures,
            seconds=load.window_seconds,
            requests_dispersion=_dispersion(requests),
            failures_dispersion=_dispersion(failures),
            failure_statuses=statuses,
        )


@dataclass(frozen=True)
class Gap:
    """One count compared: both sides, the gap the scrape window explains, and whether it was exceeded."""

    figure: str  # "requests" or "failures"
    client: float
    server: float
    tolerance: float

    @property
    def difference(self) -> float:
        return self.server - self.client

    @property
    def flagged(self) -> bool:
        return abs(self.difference) > self.tolerance


@dataclass(frozen=True)
class Reconciliation:
    """Every count of one run compared, with the cause when a gap is beyond what the window explains."""

    requests: Gap | None
    failures: Gap | None
    seconds: float
    cause: Cause | None
    why_not: str | None = None  # why a count could not be compared (the server did not measure it)

    @property
    def flagged(self) -> bool:
        return any(gap is not None and gap.flagged for gap in (self.requests, self.failures))

    def rows(self) -> list[dict[str, Any]]:
        """Requests, failures, success rate and throughput as rows of client, server and the judgement."""
        rows = []
        for gap in (self.requests, self.failures):
            if gap is not None:
                rows.append({"figure": gap.figure, "client": gap.client, "server": gap.server,
                             "difference": gap.difference, "tolerance": gap.tolerance, "flagged": gap.flagged})
        requests, failures = self.requests, self.failures
        if requests is not None and failures is not None and requests.client > 0 and requests.server > 0:
            rows.append({"figure": "success_rate", "client": 1 - failures.client / requests.client,
                         "server": 1 - failures.server / requests.server, "difference": None,
                         "tolerance": None, "flagged": failures.flagged or requests.flagged})
        if requests is not None and self.seconds > 0:
            rows.append({"figure": "throughput", "client": requests.client / self.seconds,
                         "server": requests.server / self.seconds, "difference": None,
                         "tolerance": requests.tolerance / self.seconds, "flagged": requests.flagged})
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows(), "flagged": self.flagged, "cause": None if self.cause is None else self.cause.value,
                "not_compared": self.why_not}


def tolerance(count: float, seconds: float, dispersion: float, scrape_interval: float) -> float:
    """The largest client/server gap the window's edges explain: Z standard deviations of the requests in
    EDGES scrape intervals at the window's mean rate (their variance `dispersion` × their mean), plus SLACK."""
    rate = count / seconds if seconds > 0 else 0.0
    return Z * math.sqrt(max(1.0, dispersion) * rate * EDGES * max(scrape_interval, 0.0)) + SLACK


def reconcile(client: ClientCounts, server: ServerCounts | None) -> Reconciliation:
    """The run's counts compared; a cause is named when a gap is flagged."""
    if server is None or server.requests is None:
        return Reconciliation(None, None, client.seconds, None, "the server's request count was not measured")
    interval = server.scrape_interval
    requests = Gap("requests", client.requests, server.requests,
                   tolerance(client.requests, client.seconds, client.requests_dispersion, interval))
    if server.errors is None:
        failures = None
        why = ("the counter has no error label" if server.unlabelled > 0 else
               "the server's error count was not measured")
    else:
        failures = Gap("failures", client.failures, server.errors,
                       tolerance(client.failures, client.seconds, client.failures_dispersion, interval))
        why = None
    result = Reconciliation(requests, failures, client.seconds, None, why)
    if not result.flagged:
        return result
    return Reconciliation(requests, failures, client.seconds, diagnose(client, server, requests, failures), why)


def diagnose(client: ClientCounts, server: ServerCounts, requests: Gap, failures: Gap | None) -> Cause | None:
    """The most likely cause of a flagged gap, from the statuses both sides saw."""
    if failures is not None and failures.flagged and failures.difference < 0:
        return _missing_errors(client, server, requests, failures)
    if requests.flagged and requests.difference > 0:
        return Cause.OTHER_TRAFFIC
    if requests.flagged:
        missing = -requests.difference
        if abs(missing - client.failures) <= requests.tolerance + (failures.tolerance if failures else 0.0):
            return Cause.FAILURES_OUT_OF_SCOPE
        return Cause.PARTIAL_SCOPE
    return Cause.SERVER_ONLY_ERRORS


def _missing_errors(client: ClientCounts, server: ServerCounts, requests: Gap, failures: Gap) -> Cause:
    statuses = client.failure_statuses
    total = sum(statuses.values()) or 1
    http = {status: count for status, count in statuses.items() if status != NO_RESPONSE}
    if statuses.get(NO_RESPONSE, 0) / total > 0.5:
        return Cause.NEVER_REACHED
    if requests.flagged and requests.difference < 0:
        return Cause.FAILURES_OUT_OF_SCOPE
    server_faults = {status: count for status, count in http.items() if status.startswith("5")}
    if sum(server_faults.values()) / total <= 0.5:
        return Cause.CLIENT_ONLY_FAILURES
    if not server.error_values and not server.errors:
        return Cause.REGEX_MATCHES_NONE
    return Cause.REGEX_MISSES_STATUSES


def server_values_for(status: str, values: Sequence[str]) -> list[str]:
    """The error label's values that stand for an HTTP status: the status itself or its class (`5xx`, `5XX`)."""
    grouped = re.compile(rf"{re.escape(status[:1])}[xX]{{2}}")
    return [value for value in values if value == status or grouped.fullmatch(value)]


def _dispersion(counts: np.ndarray) -> float:
    mean = float(counts.mean()) if counts.size else 0.0
    if mean <= 0 or counts.size < 2:
        return 1.0
    return float(counts.var(ddof=1)) / mean


def findings(result: Reconciliation, client: ClientCounts, server: ServerCounts | None) -> tuple[list[str], list[str]]:
    """(warnings, notes): one warning line naming both figures and the cause when a gap is flagged; a note when
    a count could not be compared."""
    notes = []
    if server is not None and result.why_not and server.unlabelled > 0:
        notes.append(
            f"`{server.counter}` has no label `{server.error_label}` on series that counted "
            f"{server.unlabelled:,.0f} requests: the server cannot show errors; judge success rate with "
            'source = "client"'
        )
    elif result.why_not:
        notes.append(f"client and server counts not compared: {result.why_not}")
    if not result.flagged or server is None or result.requests is None:
        return [], notes
    requests, failures = result.requests, result.failures
    counts = f"client {requests.client:,.0f} requests"
    if failures is not None:
        counts += f" with {failures.client:,.0f} failures, server {requests.server:,.0f} with {failures.server:,.0f} " \
                  f"errors (±{requests.tolerance:,.0f} and ±{failures.tolerance:,.0f} explained by the window's edges)"
    else:
        counts += f", server {requests.server:,.0f} (±{requests.tolerance:,.0f} explained by the window's edges)"
    return [f"the server's counts disagree with the client's: {counts}; {_cause_words(result, client, server)}"], notes


def _cause_words(result: Reconciliation, client: ClientCounts, server: ServerCounts) -> str:
    label, regex = f"`{server.error_label}`", f'error_regex "{server.error_regex}"'
    http = {s: n for s, n in client.failure_statuses.items() if s != NO_RESPONSE}
    seen = ", ".join(f"HTTP {s} ×{n:,}" for s, n in sorted(http.items(), key=lambda item: -item[1])) or "none"
    values = ", ".join(sorted(server.values)) or "none"
    requests = result.requests
    ratio = requests.server / requests.client if requests is not None and requests.client else math.inf
    words = {
        Cause.REGEX_MATCHES_NONE: f"the client saw {seen} in the run; the server's {regex} matches none of the values "
        f"{label} takes: {values} (fix prometheus.error_regex)",
        Cause.REGEX_MISSES_STATUSES: f"the client saw {seen} in the run; the server's {regex} does not match "
        f"{label} value(s) {', '.join(_unmatched(http, server)) or 'standing for them'} (matched: "
        f"{', '.join(sorted(server.error_values or {})) or 'none'}; fix prometheus.error_regex)",
        Cause.FAILURES_OUT_OF_SCOPE: f"the server is short of about the client's failures ({seen}): the selector "
        f"`{server.selector}` or the counter `{server.counter}` leaves failed requests out",
        Cause.NEVER_REACHED: f"the client's failures are connection errors or timeouts that never reached the service "
        f"({client.failure_statuses.get(NO_RESPONSE, 0):,} without an HTTP response): the server cannot count them; "
        'judge success rate with source = "client" or "both"',
        Cause.CLIENT_ONLY_FAILURES: f"the client's failures are {seen}, which the server's {regex} does not count as "
        "errors (or failures the locustfile marks): fix the locustfile's requests, or mark expected statuses as "
        "success with catch_response",
        Cause.OTHER_TRAFFIC: f"the server counted ×{ratio:.2f} the client's requests: other traffic is in scope; "
        "narrow prometheus.selector",
        Cause.PARTIAL_SCOPE: f"the server counted ×{ratio:.2f} the client's requests: prometheus.selector matches only "
        "part of this traffic (e.g. one of several instances), or the counter misses requests",
        Cause.SERVER_ONLY_ERRORS: "the server counted errors the client never saw: other traffic's errors are in "
        "scope, or the locustfile marks failed responses as successes",
    }
    return words[result.cause] if result.cause is not None else "cause unknown"


def _unmatched(http: Mapping[str, int], server: ServerCounts) -> list[str]:
    matched = set(server.error_values or {})
    return sorted({value for status in http for value in server_values_for(status, list(server.values))} - matched)


def route_names_note(server_routes: Mapping[str, Any], client_names: Sequence[str], label: str | None) -> str | None:
    """A note naming the locustfile's request names that match no value of the route label (their per-route
    figures and route gates have no server side), or None when every name matches or no route label is read."""
    if label is None or not server_routes:
        return None
    names = sorted({name.split(" ", 1)[-1] for name in client_names})
    unmatched = [name for name in names if name not in server_routes]
    if not unmatched:
        return None
    seen = ", ".join(sorted(server_routes)[:10]) + (" …" if len(server_routes) > 10 else "")
    return (f"the locustfile's request names {', '.join(unmatched[:10])} match no value of the route label `{label}` "
            f"({seen}): name each request after its route (`name=`) for per-route figures and route gates")
