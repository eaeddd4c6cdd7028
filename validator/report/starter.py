"""`slagate init`'s output: a commented sla.toml and a starter locustfile from what Prometheus has.

Every proposed bound is marked as a proposal with the figure it came from; a bound inside a bucket too wide to
decide it says so; a route with path parameters gets a TODO in the locustfile.
"""

import json
import re
from dataclasses import dataclass

from validator.prometheus.discovery import Discovered
from validator.spec.units import format_seconds

COARSE = 0.25  # a bucket wider than this share of the bound inside it cannot decide the bound
PARAMETER = re.compile(r"\{[^}]*\}|<[^>]*>|:[A-Za-z_]\w*")
SKIPPED_ROUTES = ("/metrics", "/healthz", "/health", "/ready", "/-/ready", "/favicon.ico")


@dataclass(frozen=True)
class Connection:
    """How the written spec reaches Prometheus and the target, as given to `slagate init`."""

    prometheus_url: str
    selector: str
    target_url: str
    locustfile: str  # relative to the spec
    duration: str
    auth_lines: tuple[str, ...] = ()  # `key = value` lines for [prometheus] (auth, TLS)


def proposed_bounds(found: Discovered) -> dict[float, tuple[float, str]]:
    """quantile → (bound in seconds, where it came from): twice the recent figure, rounded up to a round number;
    without recent traffic, placeholders."""
    defaults = {0.5: 0.1, 0.95: 0.3, 0.99: 0.5}
    bounds = {}
    for q, fallback in defaults.items():
        recent = found.recent.get(q)
        if recent is None:
            bounds[q] = (fallback, "a placeholder: Prometheus had no traffic to propose from (TODO)")
        else:
            bound, origin = _round_up(2 * recent), f"proposed: twice the last 10 minutes' {format_seconds(recent)}"
            edge = min((b for b in found.bounds if b >= bound), default=float("inf"))
            if coarse_note(found, bound) and edge != float("inf"):
                bound, origin = edge, origin + f", raised to the bucket edge {format_seconds(edge)} it can decide"
            bounds[q] = (bound, origin)
    return bounds


def _round_up(seconds: float) -> float:
    """The next of 1, 2, 2.5, 5 × a power of ten at or above `seconds`."""
    for exponent in range(-4, 4):
        for mantissa in (1, 2, 2.5, 5):
            if mantissa * 10**exponent >= seconds:
                return round(mantissa * 10**exponent, 6)
    return seconds


def coarse_note(found: Discovered, bound: float) -> str | None:
    """Why the classic buckets cannot decide `bound` (it lies inside one wider than COARSE of it), else None."""
    if not found.bounds:
        return None
    lower = max((b for b in found.bounds if b < bound), default=0.0)
    upper = min((b for b in found.bounds if b >= bound), default=float("inf"))
    if upper == bound or (upper - lower) <= COARSE * bound:
        return None
    shown = "+Inf" if upper == float("inf") else format_seconds(upper)
    return (f"coarse buckets: {format_seconds(bound)} lies in the bucket {format_seconds(lower)}–{shown}; add "
            "bucket boundaries around it, or this gate ends WARN")


def _duration(seconds: float) -> str:
    return f"{round(seconds * 1000):g}ms" if seconds < 1 else f"{seconds:g}s"


def spec_text(found: Discovered, connection: Connection) -> str:
    """The commented sla.toml."""
    names = (
        [f'preset = "{found.preset}"            # names the histogram, counter, status and route labels below']
        if found.preset else [
            f"latency_histogram = {json.dumps(found.latency_histogram)}",
            f"request_counter = {json.dumps(found.request_counter)}",
            f"error_label = {json.dumps(found.error_label)}",
            *([f"route_label = {json.dumps(found.route_label)}"] if found.route_label else []),
            *([f'latency_unit = "{found.latency_unit}"'] if found.latency_unit != "s" else []),
        ]
    )
    values = ", ".join(found.status_values) or "none seen yet"
    lines = [
        "# slagate spec written by `slagate init` from what Prometheus has; review every line marked proposed.",
        "",
        "[service]",
        'name = "service"          # TODO: your service name (baselines/<name>/, reports/<run-id>-<name>/)',
        'version = "0.0.0"         # TODO: the candidate build',
        "",
        "[target]",
        f"url = {json.dumps(connection.target_url)}",
        "",
        "[load]",
        f"locustfile = {json.dumps(connection.locustfile)}  # one GET task per route Prometheus saw; edit it",
        "users = 20",
        "spawn_rate = 20",
        f'duration = "{connection.duration}"',
        'warmup = "5s"',
        "",
        "[prometheus]",
        f"url = {json.dumps(connection.prometheus_url)}",
        *names,
        *([f'histogram = "native"        # Prometheus keeps {found.latency_histogram} as a native histogram']
          if found.histogram == "native" else []),
        f"selector = {_toml_literal(connection.selector)}",
        f'error_regex = "5.."        # `{found.error_label}` took {values}',
        (f'scrape_interval = "{found.scrape_interval:g}s"    # the scrape interval of its job (/api/v1/targets)'
         if found.scrape_interval else 'scrape_interval = "15s"   # TODO: /api/v1/targets did not say'),
        *connection.auth_lines,
    ]
    if found.bounds:
        lines.append(f"# classic buckets: {len(found.bounds)} bounds, "
                     f"{', '.join(format_seconds(b) for b in found.bounds[:12])}"
                     + (" …" if len(found.bounds) > 12 else ""))
    if found.others:
        lines.append(f"# other latency histograms seen: {', '.join(found.others[:6])}")
    for name, metric, q in (("p99 latency", "latency_p99", 0.99), ("p95 latency", "latency_p95", 0.95)):
        bound, origin = proposed_bounds(found)[q]
        coarse = coarse_note(found, bound)
        lines += ["", "[[gates]]", f'name = "{name}"', f'metric = "{metric}"', 'severity = "critical"',
                  f'max = "{_duration(bound)}"' + f"  # {origin}", *([f"# {coarse}"] if coarse else [])]
    lines += ["", "[[gates]]", 'name = "success rate"', 'metric = "success_rate"', 'severity = "critical"',
              'min = "99%"               # proposed: a common floor; set your SLO',
              'source = "both"           # the server\'s counter and the load generator\'s']
    if found.recent_rate is not None:
        lines.append(f"# the last 10 minutes served {found.recent_rate:.1f} req/s")
    return "\n".join(lines) + "\n"


def _toml_literal(text: str) -> str:
    return f"'{text}'" if "'" not in text and "\n" not in text else json.dumps(text)


def locustfile_text(found: Discovered) -> str:
    """A starter locustfile: one GET task per route, a TODO where a route has path parameters."""
    routes = [r for r in found.routes if r.startswith("/") and r not in SKIPPED_ROUTES] or ["/"]
    answered = found.answered_routes
    quiet = [r for r in routes if answered is not None and r not in answered]
    routes = [r for r in routes if r not in quiet] or routes
    lines = [
        '"""Starter load scenario written by `slagate init`: one GET per route Prometheus saw. Edit it to match',
        'real traffic (methods, bodies, weights, parameters)."""',
        "",
        "from locust import FastHttpUser, between, task",
        "",
        "",
        "class Visitor(FastHttpUser):",
        "    wait_time = between(0.05, 0.2)",
    ]
    for index, route in enumerate(routes):
        path = PARAMETER.sub("1", route)
        lines += ["", "    @task"]
        if path != route:
            lines.append(f"    # TODO: {route} has path parameters; 1 stands in for each")
        lines += [f"    def route_{index}(self) -> None:",
                  f"        self.client.get({json.dumps(path)}, name={json.dumps(route)})"]
    lines += [f"    # TODO: {route} answered no 2xx in the last 10 minutes (another method?); add its task by hand"
              for route in quiet]
    return "\n".join(lines) + "\n"
