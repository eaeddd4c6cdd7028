"""Charts and observations on a small recorded load: every chart drawn, errors split by category only where the
split is certain, an error burst found with its clock time."""

import numpy as np

from validator.judge.judgement import Judgement
from validator.judge.observations import observe
from validator.judge.verdict import decide
from validator.load.capture import EndpointStats, ErrorGroup
from validator.load.histogram import Timeline
from validator.load.result import LoadResult
from validator.measure.record import MetricsRecord
from validator.prometheus import Window
from validator.report.chart_time import MIXED, _attributed, _series
from validator.report.charts import write_charts

ORIGIN = 1_800_000_000.0


def small_load(seconds: int = 40) -> LoadResult:
    """10 requests a second; 5 failures a second of category A at 20–24 s, of A and B at once at 30 s."""
    rng = np.random.default_rng(1)
    timeline = Timeline(ORIGIN)
    routes = {"GET /a$b$": EndpointStats(), "GET /c": EndpointStats()}
    for second in range(seconds):
        failing = 5 if 20 <= second < 25 or second == 30 else 0
        for i in range(10):
            latency = float(rng.lognormal(np.log(20_000), 0.4))
            timeline.record(ORIGIN + second + i / 10, latency, success=i >= failing)
            stats = routes["GET /a$b$" if i % 2 else "GET /c"]
            stats.requests += 1
            stats.histogram.record(latency)
    errors = [
        ErrorGroup("GET /a$b$", "503", "HTTPError", 28, ORIGIN + 20, ORIGIN + 30.5, "busy"),
        ErrorGroup("GET /c", "0", "ConnectionResetError", 2, ORIGIN + 30, ORIGIN + 30.4, "reset"),
    ]
    profile = {"model": "closed", "users": 5, "duration_s": seconds, "warmup_s": 5}
    return LoadResult(ORIGIN, ORIGIN + 5, ORIGIN + seconds, profile, timeline, routes, errors, {})


def test_every_chart_is_drawn_and_linked_by_name(tmp_path) -> None:
    charts = write_charts(tmp_path, [], {}, None, [small_load()])
    assert [c.key for c in charts] == ["latency", "timeline", "errors", "routes"]
    assert all(c.error is None and (tmp_path / c.file).stat().st_size > 5_000 for c in charts)
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically


def test_errors_split_by_category_only_where_certain() -> None:
    load = small_load()
    data = _series(load, quantiles=False)
    stacks = _attributed(load, data["start"], data["errors"])
    single = stacks["503 HTTPError on GET /a$b$"]
    assert single.sum() == 25 and set(np.flatnonzero(single)) == {20, 21, 22, 23, 24}
    assert stacks[MIXED].sum() == 5 and np.flatnonzero(stacks[MIXED]).tolist() == [30]


def test_a_burst_is_observed_with_its_clock_time() -> None:
    load = small_load()
    judgement = Judgement([], decide([]))
    found = {o.kind: o for o in observe(judgement, MetricsRecord("u", Window(0, 1)), [load], None, None)}
    burst = found["error_burst"].figures
    assert burst["start_s"] >= 15 and burst["end_s"] <= 31 and burst["share"] >= 0.8
    assert found["errors_in_one_endpoint"].figures["endpoint"] == "GET /a$b$"
