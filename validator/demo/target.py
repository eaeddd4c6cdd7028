"""Demo HTTP target: lognormal latency, a slow tail and errors set by flags, exported with prometheus_client.

Run `python -m validator.demo.target --port 8080`; PUT /-/config changes the behaviour without a restart.
"""

if __name__ == "__main__":
    # Only the server process is made cooperative: importing DemoSettings elsewhere must not patch the importer.
    from gevent import monkey

    monkey.patch_all()

import argparse
import dataclasses
import json
import math
import random
import socket
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import gevent
from gevent.pywsgi import WSGIHandler, WSGIServer
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

LATENCY_METRIC = "slagate_demo_request_duration_seconds"
REQUEST_COUNTER = "slagate_demo_requests_total"
ERROR_LABEL = "code"
ERROR_REGEX = "5.."
PATHS = ("/api/items", "/api/items/{id}", "/api/search", "/api/orders")
UNMATCHED_PATH = "unmatched"  # the `path` label of requests to unknown paths (counted, never timed)

# Geometric buckets, ratio 1.05, from 1 ms to ~31 s: linear interpolation inside a bucket stays within 5 %.
BUCKET_RATIO = 1.05
BUCKETS = tuple(float(f"{0.001 * BUCKET_RATIO**k:.4g}") for k in range(math.ceil(math.log(30_000, BUCKET_RATIO)) + 1))

_EXACT_ROUTES = {
    ("GET", "/api/items"): "/api/items",
    ("GET", "/api/search"): "/api/search",
    ("POST", "/api/orders"): "/api/orders",
}
_ITEM_PREFIX = "/api/items/"

StartResponse = Callable[[str, list[tuple[str, str]]], object]


@dataclasses.dataclass(frozen=True)
class DemoSettings:
    """How the demo target behaves; one field per command-line flag (`latency_median_ms` ↔ `--latency-median-ms`)."""

    latency_median_ms: float = dataclasses.field(default=20.0, metadata={"help": "median latency (ms)"})
    latency_sigma: float = dataclasses.field(default=0.5, metadata={"help": "lognormal sigma (natural log)"})
    slow_fraction: float = dataclasses.field(default=0.0, metadata={"help": "probability of a slow request"})
    slow_ms: float = dataclasses.field(default=400.0, metadata={"help": "median latency of slow requests (ms)"})
    error_rate: float = dataclasses.field(default=0.0, metadata={"help": "probability of answering 500"})
    latency_multiplier: float = dataclasses.field(default=1.0, metadata={"help": "factor on every latency"})
    seed: int | None = dataclasses.field(default=None, metadata={"help": "random seed (default: unseeded)"})

    def __post_init__(self) -> None:
        problems = [
            f"{name} must be {rule}, got {getattr(self, name)!r}"
            for name, ok, rule in (
                ("latency_median_ms", self.latency_median_ms > 0, "> 0"),
                ("latency_sigma", self.latency_sigma >= 0, ">= 0"),
                ("slow_fraction", 0 <= self.slow_fraction <= 1, "in [0, 1]"),
                ("slow_ms", self.slow_ms > 0, "> 0"),
                ("error_rate", 0 <= self.error_rate <= 1, "in [0, 1]"),
                ("latency_multiplier", self.latency_multiplier >= 0, ">= 0"),
            )
            if not ok
        ]
        problems += [
            f"{field.name} must be finite, got {getattr(self, field.name)!r}"
            for field in dataclasses.fields(self)
            if isinstance(getattr(self, field.name), float) and not math.isfinite(getattr(self, field.name))
        ]
        if problems:
            raise ValueError("; ".join(problems))

    def cli_args(self) -> list[str]:
        """The command-line flags that start a target with exactly these settings."""
        args = []
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is not None:
                args += [_flag(field.name), str(value)]
        return args

    def with_assignments(self, assignments: Iterable[str]) -> "DemoSettings":
        """A copy with `KEY=VALUE` assignments (`--demo-set`) applied; ValueError names a bad one."""
        changes = {}
        for assignment in assignments:
            key, _, value = assignment.partition("=")
            try:
                changes[key] = json.loads(value)
            except json.JSONDecodeError:
                raise ValueError(f"--demo-set {assignment}: expected KEY=NUMBER, e.g. latency_multiplier=2") from None
        try:
            return self.with_changes(changes)
        except ValueError as error:
            raise ValueError(f"--demo-set: {error}") from None

    def with_changes(self, changes: Mapping[str, Any]) -> "DemoSettings":
        """A copy with `changes` (e.g. a decoded JSON body) applied; ValueError names any unknown or mistyped key."""
        known = [field.name for field in dataclasses.fields(self)]
        unknown = sorted(set(changes) - set(known))
        if unknown:
            raise ValueError(f"unknown setting(s) {', '.join(unknown)}; expected some of {', '.join(known)}")
        converted: dict[str, Any] = {}
        for name, value in changes.items():
            if name == "seed":
                if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                    raise ValueError(f"seed: expected an integer or null, got {value!r}")
            elif isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name}: expected a number, got {value!r}")
            else:
                value = float(value)
            converted[name] = value
        return dataclasses.replace(self, **converted)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


class Simulation:
    """The current settings and the random draws they imply: one latency and one error decision per request."""

    def __init__(self, settings: DemoSettings) -> None:
        self.settings = settings
        self._random = random.Random(settings.seed)

    def update(self, changes: Mapping[str, Any]) -> DemoSettings:
        """Apply runtime changes (re-seeding when `seed` is among them) and return the new settings."""
        self.settings = self.settings.with_changes(changes)
        if "seed" in changes:
            self._random.seed(self.settings.seed)
        return self.settings

    def draw(self) -> tuple[float, bool]:
        """(latency in seconds, whether to fail) for one request."""
        s = self.settings
        median_ms = s.slow_ms if self._random.random() < s.slow_fraction else s.latency_median_ms
        latency_ms = self._random.lognormvariate(math.log(median_ms), s.latency_sigma) * s.latency_multiplier
        return latency_ms / 1000.0, self._random.random() < s.error_rate


class DemoApp:
    """The WSGI application: simulated API routes, /healthz, /metrics and /-/config."""

    def __init__(self, settings: DemoSettings) -> None:
        self.simulation = Simulation(settings)
        self.registry = CollectorRegistry(auto_describe=True)
        self.latency = Histogram(
            LATENCY_METRIC,
            "Server-side wall time per simulated request.",
            ["path"],
            registry=self.registry,
            buckets=BUCKETS,
        )
        self.requests = Counter(
            REQUEST_COUNTER,
            "Requests by route template and status code.",
            ["path", ERROR_LABEL],
            registry=self.registry,
        )
        for path in PATHS:
            self.latency.labels(path)
            for code in ("200", "500"):
                # Pre-initialised to 0: a series born mid-run loses its first increment in increase().
                self.requests.labels(path, code)
        self.requests.labels(UNMATCHED_PATH, "404")

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        if path == "/healthz":
            return _respond(start_response, "200 OK", b"ok\n", "text/plain")
        if path == "/metrics":
            return _respond(start_response, "200 OK", generate_latest(self.registry), CONTENT_TYPE_LATEST)
        if path == "/-/config":
            return self._config(method, environ, start_response)
        route = _route(method, path)
        if route is None:
            self.requests.labels(UNMATCHED_PATH, "404").inc()
            return _respond(start_response, "404 Not Found", b'{"error": "not found"}\n')
        return self._simulate(route, environ, start_response)

    def _simulate(self, route: str, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        environ["wsgi.input"].read()
        latency, fail = self.simulation.draw()
        gevent.sleep(latency)
        status, body = (
            ("500 Internal Server Error", b'{"error": "simulated"}\n') if fail else ("200 OK", b'{"ok": true}\n')
        )
        self.latency.labels(route).observe(time.perf_counter() - started)
        self.requests.labels(route, status[:3]).inc()
        return _respond(start_response, status, body)

    def _config(self, method: str, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if method == "PUT":
            try:
                changes = json.loads(environ["wsgi.input"].read() or b"null")
                if not isinstance(changes, dict):
                    raise ValueError("expected a JSON object of settings")
                self.simulation.update(changes)
            except ValueError as error:  # json.JSONDecodeError is a ValueError too
                return _respond(start_response, "400 Bad Request", json.dumps({"error": str(error)}).encode())
        elif method != "GET":
            return _respond(start_response, "405 Method Not Allowed", b'{"error": "GET or PUT"}\n')
        return _respond(start_response, "200 OK", json.dumps(dataclasses.asdict(self.simulation.settings)).encode())


def _route(method: str, path: str) -> str | None:
    """The route template (a PATHS entry) for a request, or None for an unknown path."""
    item_id = path.removeprefix(_ITEM_PREFIX) if path.startswith(_ITEM_PREFIX) else ""
    if method == "GET" and item_id and "/" not in item_id:
        return "/api/items/{id}"
    return _EXACT_ROUTES.get((method, path))


def _respond(
    start_response: StartResponse, status: str, body: bytes, content_type: str = "application/json"
) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


class NoDelayHandler(WSGIHandler):
    """pywsgi sends headers and body in two writes; without TCP_NODELAY, Nagle plus the client's delayed ACK
    add ~40 ms to every keep-alive response."""

    def handle(self) -> None:
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().handle()


def parse_args(argv: list[str] | None = None) -> tuple[str, int, DemoSettings]:
    """(host, port, settings) from the command line; every DemoSettings field is a flag with its default."""
    parser = argparse.ArgumentParser(prog="python -m validator.demo.target", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default: %(default)s)")
    for field in dataclasses.fields(DemoSettings):
        kind = int if field.name == "seed" else float
        parser.add_argument(_flag(field.name), type=kind, default=field.default, help=field.metadata["help"])
    args = vars(parser.parse_args(argv))
    host, port = args.pop("host"), args.pop("port")
    try:
        return host, port, DemoSettings(**args)
    except ValueError as error:
        parser.error(str(error))


def main(argv: list[str] | None = None) -> None:
    """Serve the demo target until interrupted or terminated."""
    host, port, settings = parse_args(argv)
    disable_created_metrics()  # no `_created` series: they would only add scrape volume
    server = WSGIServer((host, port), DemoApp(settings), handler_class=NoDelayHandler, log=None, backlog=4096)
    print(f"demo target on http://{host}:{port} with {settings}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.stop(timeout=1)


if __name__ == "__main__":
    main()
