"""Client against server counts: a wrong reading of the service is a measurement warning naming its cause.

The counts are recorded from a real demo run (`slagate run --demo --demo-set error_rate=0.10` with
`error_regex = "5xx"`): the client saw 20,717 requests with 2,207 failures in the steady window, Prometheus counted
20,716 requests of which `code` 200 held 18,511 and 500 held 2,204.
"""

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.unit.test_checks import closed_load
from validator.measure import checks
from validator.measure.reconciliation import (
    Cause,
    ClientCounts,
    ServerCounts,
    findings,
    reconcile,
    route_names_note,
    tolerance,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import reconcile_false_alarm as simulation  # noqa: E402

CLIENT = ClientCounts(requests=20_717, failures=2_207, seconds=25.0, requests_dispersion=1.4, failures_dispersion=1.1,
                      failure_statuses={"500": 2_621})
VALUES = {"200": 18_511.0, "404": 0.0, "500": 2_204.0}


def server(**changes) -> ServerCounts:
    """The recorded run's server counts under the right reading (`code`, "5.."), with `changes`."""
    right = ServerCounts(requests=20_716.0, errors=2_204.0, values=VALUES, error_values={"500": 2_204.0},
                         unlabelled=0.0, error_label="code", error_regex="5..", selector='job="demo"',
                         counter="slagate_demo_requests_total", scrape_interval=1.0)
    return dataclasses.replace(right, **changes)


def warning(client: ClientCounts, counts: ServerCounts) -> str:
    result = reconcile(client, counts)
    warnings, _ = findings(result, client, counts)
    assert result.flagged and len(warnings) == 1
    return warnings[0]


def test_the_right_reading_reconciles():
    result = reconcile(CLIENT, server())
    assert not result.flagged and result.cause is None
    assert findings(result, CLIENT, server()) == ([], [])
    assert [row["figure"] for row in result.rows()] == ["requests", "failures", "success_rate", "throughput"]


@pytest.mark.parametrize("regex", ["5xx", "9.."])
def test_an_error_regex_matching_no_value_is_named(regex):
    counts = server(errors=0.0, error_values={}, error_regex=regex)
    assert reconcile(CLIENT, counts).cause == Cause.REGEX_MATCHES_NONE
    text = warning(CLIENT, counts)
    assert "client 20,717 requests with 2,207 failures, server 20,716 with 0 errors" in text
    assert f'the client saw HTTP 500 ×2,621 in the run; the server\'s error_regex "{regex}" matches none of the ' \
           "values `code` takes: 200, 404, 500" in text


def test_an_error_label_that_is_not_the_status_is_named():
    paths = {"/api/items": 12_000.0, "/api/search": 8_716.0}
    counts = server(errors=0.0, error_values={}, values=paths, error_label="path")
    assert "matches none of the values `path` takes: /api/items, /api/search" in warning(CLIENT, counts)


def test_a_regex_that_misses_the_client_statuses_names_the_values():
    counts = server(errors=0.0, error_values={"503": 0.0}, error_regex="503")
    assert reconcile(CLIENT, counts).cause == Cause.REGEX_MISSES_STATUSES
    assert "does not match `code` value(s) 500" in warning(CLIENT, counts)


def test_a_selector_that_leaves_errors_out_is_named():
    counts = server(requests=18_511.0, errors=0.0, values={"200": 18_511.0}, error_values={},
                    selector='job="demo",code!~"5.."')
    assert reconcile(CLIENT, counts).cause == Cause.FAILURES_OUT_OF_SCOPE
    assert 'the selector `job="demo",code!~"5.."`' in warning(CLIENT, counts)


def test_other_traffic_in_scope_is_named():
    counts = server(requests=62_150.0, errors=6_612.0)
    assert reconcile(CLIENT, counts).cause == Cause.OTHER_TRAFFIC
    assert "the server counted ×3.00 the client's requests: other traffic is in scope" in warning(CLIENT, counts)


def test_failures_that_never_reached_the_service_are_named():
    client = dataclasses.replace(CLIENT, failure_statuses={"none": 2_621})
    counts = server(requests=18_510.0, errors=0.0, error_values={})
    assert reconcile(client, counts).cause == Cause.NEVER_REACHED
    assert "connection errors or timeouts that never reached the service" in warning(client, counts)


def test_client_errors_the_regex_does_not_count_are_named():
    client = dataclasses.replace(CLIENT, failure_statuses={"404": 2_621})
    counts = server(errors=0.0, error_values={}, values={"200": 18_511.0, "404": 2_205.0})
    assert reconcile(client, counts).cause == Cause.CLIENT_ONLY_FAILURES
    assert "the client's failures are HTTP 404 ×2,621" in warning(client, counts)


def test_a_counter_without_the_error_label_is_a_note_in_one_sentence():
    counts = server(errors=None, error_values=None, values={}, unlabelled=20_716.0,
                    counter="alertmanager_http_requests_total")
    result = reconcile(CLIENT, counts)
    assert not result.flagged and result.failures is None
    warnings, notes = findings(result, CLIENT, counts)
    assert warnings == [] and notes == [
        "`alertmanager_http_requests_total` has no label `code` on series that counted 20,716 requests: the server "
        'cannot show errors; judge success rate with source = "client"'
    ]


def test_client_counts_come_from_the_steady_window_only():
    load = closed_load(rate=100)  # 10 s at 100/s, steady window 2 s → 9 s
    counts = ClientCounts.of(load)
    assert counts.requests == 700 and counts.failures == 0 and counts.seconds == 7.0
    assert counts.requests_dispersion == 0.0  # even per-second counts: no spread ...
    assert tolerance(700, 7.0, 0.0, 1.0) == pytest.approx(3 * (100 * 2.0) ** 0.5 + 2)  # ... judged as Poisson's


def test_a_flagged_reconciliation_is_a_measurement_warning_of_the_run():
    load = closed_load(users=2, rate=100)  # 2 users × 20 ms: Little's law holds at 100/s
    counts = server(requests=700.0, errors=0.0, error_values={})
    assert checks.check_run(load, {}, 2.0, counts=counts).warnings == []
    flagged = checks.check_run(load, {}, 2.0, counts=server(requests=2_100.0, errors=0.0))
    assert any("other traffic is in scope" in line for line in flagged.warnings)
    assert flagged.to_dict()["reconciliation"]["cause"] == Cause.OTHER_TRAFFIC.value


def test_simulated_same_build_runs_rarely_warn_and_a_regex_matching_nothing_is_caught():
    rng = np.random.default_rng(11)
    runs = [(s, simulation.trial(rng, s)) for s in simulation.SCENARIOS for _ in range(4)]
    false_alarms = sum(same for _, (same, _) in runs)
    assert false_alarms <= 2  # of 216 same-build runs (1 %); benchmarks/reconcile_false_alarm.py measures 0.17 %
    assert all(caught for s, (_, caught) in runs if s.error_share == 0.1)


def test_request_names_that_match_no_route_are_named():
    routes = {"/api/items": {}, "/api/items/{id}": {}}
    assert route_names_note(routes, ["GET /api/items", "GET /api/items/{id}"], "path") is None
    assert route_names_note(routes, ["GET /api/items/42", "GET /api/items"], "path") == (
        "the locustfile's request names /api/items/42 match no value of the route label `path` (/api/items, "
        "/api/items/{id}): name each request after its route (`name=`) for per-route figures and route gates")
    assert route_names_note({}, ["GET /x"], "path") is None and route_names_note(routes, ["GET /x"], None) is None
