"""What the spec's selector matched over the window, before any figure is trusted: how many series, which jobs
and instances, series that appeared or vanished, and whether every target was scraped throughout.

Facts only (judged in validator/measure/scope_checks.py); a fact that could not be queried is None with the reason.
"""

from typing import Any

from validator.prometheus.client import PrometheusClient, QueryFailed
from validator.spec import PrometheusSpec
from validator.spec.promql import series

TARGET_LABELS = ("job", "instance")


def measure_scope(client: PrometheusClient, spec: PrometheusSpec, start: float, end: float) -> dict[str, Any]:
    """The scope facts of the request counter under the spec's selector in [start, end]."""
    counter = series(spec.request_counter, spec.selector)
    seconds = max(end - start, 0.001)
    rng = f"{max(1, round(seconds * 1000))}ms"
    edge_s = max(1.0, min(2 * spec.scrape_interval, seconds / 2))  # "present at the start/end": within 2 scrapes
    edge = f"{round(edge_s * 1000)}ms"
    by_target = "job, instance"
    facts: dict[str, Any] = {"selector": spec.selector, "counter": spec.request_counter, "errors": []}

    def ask(name: str, query: str, at: float) -> list[dict[str, Any]] | None:
        try:
            return client.instant(f"scope: {name}", query, at)
        except QueryFailed as error:
            facts["errors"].append(str(error))
            return None

    matched = ask("series matched", f"count_over_time({counter}[{rng}])", end)
    try:  # every series that existed at any moment of the window, with its labels
        listed = client.series(counter, start, end)
    except QueryFailed as error:
        facts["errors"].append(str(error))
        listed = [s.get("metric", {}) | {"__name__": ""} for s in matched or []]
    facts["series"] = None if matched is None else max(len(matched), len(listed))
    facts["targets"] = None if matched is None else sorted(
        {tuple(labels.get(label, "") for label in TARGET_LABELS) for labels in listed}
    )
    expected = seconds / spec.scrape_interval
    samples = [float(s["value"][1]) for s in matched or []]
    facts["samples_min"] = min(samples) if samples else None
    facts["samples_expected"] = expected
    at_start = ask("series at the window's start", f"group by ({by_target}) (present_over_time({counter}[{edge}]))",
                   start + edge_s)
    at_end = ask("series at the window's end", f"group by ({by_target}) (present_over_time({counter}[{edge}]))", end)
    if at_start is not None and at_end is not None:
        first, last = _targets(at_start), _targets(at_end)
        facts["appeared"], facts["vanished"] = sorted(last - first), sorted(first - last)
    else:
        facts["appeared"] = facts["vanished"] = None
    up = ask(
        "scrape coverage (up)",
        f"min by ({by_target}) (min_over_time(up[{rng}])) and on ({by_target}) "
        f"group by ({by_target}) (last_over_time({counter}[{rng}]))",
        end,
    )
    facts["targets_down"] = None if up is None else sorted(
        _target(s) for s in up if float(s["value"][1]) < 1
    )
    facts["targets"] = [list(t) for t in facts["targets"]] if facts["targets"] is not None else None
    facts["appeared"] = None if facts["appeared"] is None else [list(t) for t in facts["appeared"]]
    facts["vanished"] = None if facts["vanished"] is None else [list(t) for t in facts["vanished"]]
    facts["targets_down"] = None if facts["targets_down"] is None else [list(t) for t in facts["targets_down"]]
    return facts


def _target(item: dict[str, Any]) -> tuple[str, ...]:
    return tuple(item.get("metric", {}).get(label, "") for label in TARGET_LABELS)


def _targets(result: list[dict[str, Any]]) -> set[tuple[str, ...]]:
    return {_target(item) for item in result}
