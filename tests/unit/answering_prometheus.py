"""A real HTTP server on 127.0.0.1 that answers Prometheus API paths from a script, for unit tests of the client.

Each rule is (regex on the `query` parameter or the path, status, JSON body, headers); rules with `times` are used
that many times, then the next matching rule applies. Every request's path, parameters and headers are recorded.
"""

import json
import re
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Rule:
    pattern: str
    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    times: int | None = None  # None: forever
    delay: float = 0.0


@dataclass
class Seen:
    path: str
    params: dict[str, str]
    headers: dict[str, str]


def success(result: Any, result_type: str = "vector", warnings: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": "success", "data": {"resultType": result_type, "result": result}}
    if warnings:
        body["warnings"] = warnings
    return body


def error(error_type: str, text: str) -> dict[str, Any]:
    return {"status": "error", "errorType": error_type, "error": text}


class AnsweringPrometheus:
    """The server; `url` is its base URL (with `prefix`), `seen` every request it got."""

    def __init__(self, rules: list[Rule], prefix: str = "") -> None:
        self.rules, self.prefix, self.seen = list(rules), prefix, []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                parts = urllib.parse.urlsplit(self.path)
                params = dict(urllib.parse.parse_qsl(parts.query))
                owner.seen.append(Seen(parts.path, params, dict(self.headers)))
                path = parts.path.removeprefix(owner.prefix)
                subject = params.get("query", params.get("match[]", path))
                rule = owner._rule(subject, path)
                if rule is None:
                    self._send(404, error("not_found", f"no rule for {subject}"), {})
                    return
                if rule.delay:
                    threading.Event().wait(rule.delay)
                self._send(rule.status, rule.body, rule.headers)

            def _send(self, status: int, body: Any, headers: dict[str, str]) -> None:
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html" if isinstance(body, str) else "application/json")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    def _rule(self, subject: str, path: str) -> Rule | None:
        for rule in self.rules:
            if rule.times == 0:
                continue
            if re.search(rule.pattern, subject) or re.search(rule.pattern, path):
                if rule.times is not None:
                    rule.times -= 1
                return rule
        return None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.prefix}"


@contextmanager
def answering(rules: list[Rule], prefix: str = "") -> Iterator[AnsweringPrometheus]:
    server = AnsweringPrometheus(rules, prefix)
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()
