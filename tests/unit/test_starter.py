"""`slagate init`'s written spec and locustfile: proposals marked, coarse buckets named, parameters flagged."""

import tomllib

from validator.prometheus.discovery import Discovered
from validator.report.starter import Connection, coarse_note, locustfile_text, proposed_bounds, spec_text

DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, float("inf"))


def found(**changes) -> Discovered:
    values = dict(latency_histogram="http_request_duration_seconds", histogram="classic", latency_unit="s",
                  bounds=DEFAULT_BUCKETS, request_counter="http_requests_total", error_label="status",
                  status_values=("2xx", "5xx"), route_label="handler", routes=("/items", "/items/{id}", "/metrics"),
                  preset=None, recent={0.5: 0.02, 0.95: 0.06, 0.99: 0.11}, recent_rate=12.0)
    return Discovered(**(values | changes))


CONNECTION = Connection("http://127.0.0.1:9090", 'job="api"', "http://127.0.0.1:8000", "locustfile.py", "60s")


def test_the_written_spec_loads_and_marks_its_proposals():
    text = spec_text(found(), CONNECTION)
    spec = tomllib.loads(text)
    assert spec["prometheus"]["selector"] == 'job="api"' and spec["prometheus"]["route_label"] == "handler"
    assert [g["max"] for g in spec["gates"][:2]] == ["250ms", "250ms"]  # twice 110 ms and 60 ms, rounded up ...
    assert "# proposed: twice the last 10 minutes' 110 ms" in text
    assert "twice the last 10 minutes' 60 ms, raised to the bucket edge 250 ms it can decide" in text  # ... 200 ms
    assert 'error_regex = "5.."        # `status` took 2xx, 5xx' in text


def test_a_bound_inside_a_wide_bucket_is_named():
    assert coarse_note(found(), 0.2) == ("coarse buckets: 200 ms lies in the bucket 100 ms–250 ms; add bucket "
                                         "boundaries around it, or this gate ends WARN")
    assert coarse_note(found(), 0.25) is None  # on an edge: decidable
    assert coarse_note(found(histogram="native", bounds=()), 0.2) is None
    no_traffic = spec_text(found(recent={}, bounds=(0.1, 0.75, float("inf"))), CONNECTION)
    assert "# coarse buckets: 500 ms lies in the bucket 100 ms–750 ms" in no_traffic  # a placeholder stays put


def test_without_traffic_the_bounds_are_placeholders():
    bounds = proposed_bounds(found(recent={}))
    assert bounds[0.99] == (0.5, "a placeholder: Prometheus had no traffic to propose from (TODO)")


def test_a_preset_and_a_native_histogram_are_written_as_such():
    spec = tomllib.loads(spec_text(found(preset="fastapi-instrumentator", histogram="native", bounds=()), CONNECTION))
    assert spec["prometheus"]["preset"] == "fastapi-instrumentator" and spec["prometheus"]["histogram"] == "native"
    assert "latency_histogram" not in spec["prometheus"]


def test_the_locustfile_has_a_task_per_route_and_todos():
    text = locustfile_text(found(answered_routes=("/items/{id}",)))
    assert 'self.client.get("/items/1", name="/items/{id}")' in text
    assert "# TODO: /items/{id} has path parameters; 1 stands in for each" in text
    assert "# TODO: /items answered no 2xx in the last 10 minutes" in text and "/metrics" not in text
    compile(text, "locustfile.py", "exec")
