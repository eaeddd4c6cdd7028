"""`slagate serve`'s HTTP side: Flagger's pre-rollout hook, the recorded verdicts, health and slagate's own metrics.

Standard library only (`http.server`): the handler checks the token, bounds the body and parses the payload; the
validation itself is a callable given by the command (`validator/cli/serve.py`), run one at a time by `OneLoad`.
"""

import dataclasses
import hmac
import json
import re
import socket
import threading
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

from validator import interrupt
from validator.artifacts import VERDICT_FILE
from validator.cli.common import progress
from validator.spec.reader import PATH_NAME, PATH_NAME_EXPECTED

MAX_BODY_BYTES = 64 * 1024  # a Flagger payload is well under 1 KiB
REMEMBERED = 256  # finished verdicts kept for retries, per (namespace, name, checksum)
SOCKET_TIMEOUT_S = 30.0  # a client that stops sending mid-request is dropped, never waited on forever
METADATA_KEYS = ("baseline", "version")  # all a caller may choose: names checked as path-safe, never paths
PRE_ROLLOUT = "/flagger/pre-rollout"
DECISIONS = ("GO", "CAUTION", "NO-GO", "COULD-NOT-EVALUATE", "INCOMPLETE", "ERROR")  # slagate_serve_runs_total
RUN_STAMP = r"\d{8}T\d{6}Z"  # the UTC stamp that starts a run id (`pipeline.new_run_dir`)
_FREE_TEXT = re.compile(r"^[^\x00-\x1f\x7f]{1,253}$")  # a canary name or namespace: one printable line
_CHECKSUM = re.compile(r"^[\x21-\x7e]{1,256}$")  # printable ASCII, no space


class HttpError(Exception):
    """A request refused before any work: its status and a one-line reason for the body."""

    def __init__(self, status: HTTPStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class Hook:
    """Flagger's webhook payload, checked: which canary calls, for which revision (`checksum`), and what its
    metadata selects (a baseline version, the candidate's version)."""

    name: str
    namespace: str
    checksum: str
    baseline: str | None = None
    version: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """What makes two calls the same: one canary's one revision."""
        return self.namespace, self.name, self.checksum

    @property
    def shown(self) -> str:
        """The canary and revision, as the logs and bodies name it."""
        return f"{self.namespace}/{self.name} (checksum {self.checksum})"


def parse_hook(body: bytes) -> Hook:
    """The checked payload `{"name", "namespace", "phase", "checksum", "metadata": {...}}`; HttpError 400 with the
    first problem otherwise. `phase` is the canary's phase (e.g. "Progressing") and is not used; metadata keys other
    than METADATA_KEYS are refused, so a typo never silently runs the default."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise HttpError(HTTPStatus.BAD_REQUEST, f"malformed JSON: {error}") from None
    if not isinstance(payload, dict):
        raise HttpError(HTTPStatus.BAD_REQUEST, "expected a JSON object (Flagger's webhook payload)")
    name = _field(payload, "name", _FREE_TEXT, "the canary's name")
    namespace = _field(payload, "namespace", _FREE_TEXT, "the canary's namespace")
    checksum = _field(payload, "checksum", _CHECKSUM, "the canary revision's checksum (printable, no spaces)")
    metadata = payload.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise HttpError(HTTPStatus.BAD_REQUEST, "metadata: expected an object of strings")
    unknown = sorted(set(metadata) - set(METADATA_KEYS))
    if unknown:
        raise HttpError(HTTPStatus.BAD_REQUEST, f"metadata: unknown key {unknown[0][:64]!r}; expected only "
                                                f"{' or '.join(METADATA_KEYS)} (a version name, never a path)")
    chosen = {key: _field(metadata, key, PATH_NAME, PATH_NAME_EXPECTED, "metadata.")
              for key in METADATA_KEYS if metadata.get(key) is not None}
    return Hook(name, namespace, checksum, chosen.get("baseline"), chosen.get("version"))


def _field(payload: dict[str, Any], key: str, pattern: re.Pattern[str], expected: str, prefix: str = "") -> str:
    """payload[key] when it is a string matching `pattern`; HttpError 400 naming the key otherwise."""
    value = payload.get(key)
    if not isinstance(value, str) or not pattern.match(value):
        shown = "missing" if value is None else repr(value)[:80]
        raise HttpError(HTTPStatus.BAD_REQUEST, f"{prefix}{key}: expected {expected}, got {shown}")
    return value


@dataclasses.dataclass(frozen=True)
class Answer:
    """What the hook answers: the status, a few text lines, and whether a retry with the same checksum gets it too
    (a judged verdict does; a run that could not evaluate or was stopped does not, so a retry measures again)."""

    status: HTTPStatus
    lines: tuple[str, ...]
    remember: bool = False

    @property
    def body(self) -> bytes:
        """The lines as the body, each as slagate prints it."""
        return "".join(f"slagate: {line}\n" for line in self.lines).encode()


@dataclasses.dataclass
class _Running:
    """The one validation in progress and the calls waiting for its answer."""

    hook: Hook
    since: float
    done: threading.Event = dataclasses.field(default_factory=threading.Event)
    answer: Answer | None = None


class OneLoad:
    """Runs the validation for a hook, never two at once: a call with the running revision's checksum waits for
    its answer, a finished revision's answer is given again, any other revision is refused (409) while one runs."""

    def __init__(self, validate: Callable[[Hook], Answer]) -> None:
        self._validate = validate
        self._lock = threading.Lock()
        self._running: _Running | None = None
        self._answered: OrderedDict[tuple[str, str, str], Answer] = OrderedDict()

    def answer(self, hook: Hook) -> Answer:
        """The answer for `hook`: remembered, awaited, refused, or from a validation started now."""
        with self._lock:
            remembered = self._answered.get(hook.key)
            if remembered is not None:
                return remembered
            running = self._running
            if running is not None and running.hook.key != hook.key:
                since = datetime.fromtimestamp(running.since, UTC).strftime("%H:%M:%SZ")
                return Answer(HTTPStatus.CONFLICT, (f"busy: the validation of {running.hook.shown} runs since "
                                                    f"{since}; two loads never overlap, so none was started for "
                                                    f"{hook.shown}: call again when it ends",))
            starts = running is None
            if running is None:
                if interrupt.requested() is not None:
                    return Answer(HTTPStatus.SERVICE_UNAVAILABLE, ("stopping: slagate serve was asked to stop",))
                running = self._running = _Running(hook, time.time())
        if starts:
            self._validate_once(running)
        running.done.wait()
        assert running.answer is not None  # set before `done`
        return running.answer

    def _validate_once(self, running: _Running) -> None:
        """Validate `running.hook` (outside the lock) and hand the answer to every call waiting for it; a defect is
        a 500 in one line, never a GO, and never leaves a waiting call hanging."""
        answer = Answer(HTTPStatus.SERVICE_UNAVAILABLE, ("stopped before the validation answered",))
        try:
            answer = self._validate(running.hook)
        except Exception as error:
            why = f"internal error: {error.__class__.__name__}: {' '.join(str(error).split())[:300]}"
            answer = Answer(HTTPStatus.INTERNAL_SERVER_ERROR, (why,))
            progress(f"{running.hook.shown}: {why}")
        finally:
            with self._lock:
                self._running = None
                running.answer = answer
                if answer.remember:
                    self._answered[running.hook.key] = answer
                    while len(self._answered) > REMEMBERED:
                        self._answered.popitem(last=False)
                running.done.set()


class ServeMetrics:
    """slagate's own metrics on GET /metrics, in a registry of their own (never the process-wide one)."""

    def __init__(self) -> None:
        disable_created_metrics()  # no `_created` series beside each counter (this process serves no other metrics)
        self.registry = CollectorRegistry(auto_describe=True)
        self.runs = Counter("slagate_serve_runs", f"Validations run, by decision ({', '.join(DECISIONS)}).",
                            ["decision"], registry=self.registry)
        self.duration = Histogram("slagate_serve_run_duration_seconds", "Wall time of one validation (load, "
                                  "measurement, judgement, report).", registry=self.registry,
                                  buckets=(5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200))
        for decision in DECISIONS:  # every series exists from the start, at 0, so rate() and alerts see them
            self.runs.labels(decision)
        self.in_progress = Gauge("slagate_serve_runs_in_progress", "Validations running now (0 or 1).",
                                 registry=self.registry)


def run_verdict(reports_dir: Path, run_id: str) -> bytes | None:
    """REPORTS_DIR/<run-id>/verdict.json, or None when the id is no run's (or not a plain name)."""
    if not PATH_NAME.match(run_id):
        return None
    path = reports_dir / run_id / VERDICT_FILE
    return path.read_bytes() if path.is_file() else None


def latest_verdict(reports_dir: Path, service: str) -> bytes | None:
    """The verdict.json of `service`'s newest judged run in REPORTS_DIR (run ids sort by their UTC stamp, then by
    their `-N` suffix), or None when it has none."""
    folder = re.escape(re.sub(r"[^A-Za-z0-9._-]+", "-", service))  # as `pipeline.new_run_dir` names it
    pattern = re.compile(rf"^({RUN_STAMP})-{folder}(?:-(\d+))?$")
    runs = []
    if reports_dir.is_dir():
        for path in reports_dir.iterdir():
            matched = pattern.match(path.name)
            if matched and (path / VERDICT_FILE).is_file():
                runs.append((matched[1], int(matched[2] or 1), path / VERDICT_FILE))
    for *_, path in sorted(runs, reverse=True):
        text = path.read_bytes()
        try:
            if json.loads(text).get("service") == service:  # `demo-2` may be service demo's second run of a second
                return text
        except (json.JSONDecodeError, AttributeError):
            continue
    return None


@dataclasses.dataclass(frozen=True)
class Settings:
    """What every request handler needs: the hook's runner, where the runs are, the metrics and the token."""

    one_load: OneLoad
    reports_dir: Path
    service: str
    metrics: ServeMetrics
    token: str | None


class Handler(BaseHTTPRequestHandler):
    """One HTTP request: token, bounded body, route; every answer is one or a few plain lines (or JSON)."""

    server: "SlagateServer"
    timeout = SOCKET_TIMEOUT_S

    def do_GET(self) -> None:
        """GET /healthz, /metrics, /runs/latest?service=S and /runs/<run-id>."""
        self._answer("GET")

    def do_POST(self) -> None:
        """POST /flagger/pre-rollout."""
        self._answer("POST")

    def _answer(self, method: str) -> None:
        """Route the request; an HttpError becomes its status with a one-line body."""
        url = urllib.parse.urlsplit(self.path)
        try:
            status, body, content_type = self._route(method, url.path, urllib.parse.parse_qs(url.query))
        except HttpError as error:
            status, body, content_type = error.status, Answer(error.status, (error.reason,)).body, "text/plain"
        self._send(status, body, content_type)

    def _route(self, method: str, path: str, query: dict[str, list[str]]) -> tuple[HTTPStatus, bytes, str]:
        """The status, body and content type for an authorised request to a known path."""
        settings = self.server.settings
        if path == "/healthz":
            self._allow(method, "GET")
            return HTTPStatus.OK, b"ok\n", "text/plain"
        self._authorise(settings.token)
        if path == PRE_ROLLOUT:
            self._allow(method, "POST")
            answer = settings.one_load.answer(parse_hook(self._body()))
            return answer.status, answer.body, "text/plain"
        self._allow(method, "GET")
        if path == "/metrics":
            return HTTPStatus.OK, generate_latest(settings.metrics.registry), CONTENT_TYPE_LATEST
        if path == "/runs/latest":
            service = query.get("service", [settings.service])[-1]
            if not PATH_NAME.match(service):
                raise HttpError(HTTPStatus.BAD_REQUEST, f"service: expected {PATH_NAME_EXPECTED}")
            return self._verdict(latest_verdict(settings.reports_dir, service), f"no judged run of {service}")
        if path.startswith("/runs/"):
            run_id = urllib.parse.unquote(path.removeprefix("/runs/"))
            return self._verdict(run_verdict(settings.reports_dir, run_id), f"no run {run_id[:80]!r}")
        raise HttpError(HTTPStatus.NOT_FOUND, f"no such path; expected POST {PRE_ROLLOUT}, GET /runs/latest?service=S, "
                                              "/runs/<run-id>, /healthz or /metrics")

    @staticmethod
    def _verdict(document: bytes | None, missing: str) -> tuple[HTTPStatus, bytes, str]:
        """A verdict.json as the answer, 404 when there is none."""
        if document is None:
            raise HttpError(HTTPStatus.NOT_FOUND, missing)
        return HTTPStatus.OK, document, "application/json"

    @staticmethod
    def _allow(method: str, allowed: str) -> None:
        """HttpError 405 unless the request uses the path's one method."""
        if method != allowed:
            raise HttpError(HTTPStatus.METHOD_NOT_ALLOWED, f"expected {allowed} on this path")

    def _authorise(self, token: str | None) -> None:
        """HttpError 401 unless the request bears the token (when one is set)."""
        if token is None:
            return
        given = self.headers.get("Authorization", "")
        if not (given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), token.encode())):
            raise HttpError(HTTPStatus.UNAUTHORIZED, "expected the header Authorization: Bearer <token>")

    def _body(self) -> bytes:
        """The request body, at most MAX_BODY_BYTES and with its length declared (411, 413 otherwise)."""
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise HttpError(HTTPStatus.LENGTH_REQUIRED, "expected a Content-Length header")
        if int(length) > MAX_BODY_BYTES:
            self.close_connection = True  # the unread body is never read
            raise HttpError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body of {length} bytes; at most {MAX_BODY_BYTES}")
        return self.rfile.read(int(length))

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        """Write the answer; a caller that hung up (e.g. Flagger's timeout) is told in the log, nothing else."""
        charset = "; charset=utf-8" if content_type in ("text/plain", "application/json") else ""
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type + charset)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Content-Type-Options", "nosniff")  # echoed input is never sniffed as HTML
            if status == HTTPStatus.UNAUTHORIZED:
                self.send_header("WWW-Authenticate", "Bearer")
            self.end_headers()
            self.wfile.write(body)
        except OSError as error:
            progress(f"http: {self.command} {self.path[:80]!r}: the caller hung up before the answer ({error})")

    def version_string(self) -> str:
        """The Server header: slagate, without Python's version."""
        return "slagate"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (the stdlib's signature)
        """Each request in one slagate line on stderr (control characters escaped, so no line can be forged)."""
        line = format % args
        progress("http: " + "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in line))


class SlagateServer(ThreadingHTTPServer):
    """The HTTP server: a thread per request, joined on close so a pending answer is sent before the process ends."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], settings: Settings) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, Handler)
        self.settings = settings
