"""HTTP to Prometheus as the spec describes it: credentials, tenant headers, TLS, proxies, a path prefix, and
bounded retries; every answer's `warnings` and every retry are kept, every failure names the query and
Prometheus's own error text, and no secret reaches a message.

Queries go through `requests` directly: prometheus-api-client drops the API's `warnings`, turns repeated 5xx
into a `RetryError` without the server's error text, ignores `Retry-After` and has no overall deadline. The
library holds the configured session and serves `/api/v1/series` (see `PrometheusClient.series`).
"""

import email.utils
import os
import random
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
import urllib3
from prometheus_api_client import PrometheusApiClientException, PrometheusConnect
from requests.adapters import HTTPAdapter

from validator.errors import PrometheusUnavailable, QueryFailed, UsageError
from validator.redact import keep_credentials, keep_secret, keep_url_credentials, redact
from validator.spec.prometheus import PrometheusSpec, Secret

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REFUSED_STATUSES = frozenset({401, 403, 407})
BACKOFF_FIRST = 0.5  # seconds before the first retry; doubled each time, with jitter
BACKOFF_MAX = 8.0


@dataclass
class QueryLog:
    """Every query sent, with its evaluation time, raw result or error, Prometheus's warnings and each retry."""

    entries: list[dict[str, Any]] = field(default_factory=list)

    def add(self, name: str, query: str, at: float, result: Any = None, error: str | None = None,
            warnings: list[str] | None = None, retries: list[dict[str, Any]] | None = None) -> None:
        self.entries.append(
            {"name": name, "query": query, "time": at, "result": result, "error": error,
             "warnings": warnings or [], "retries": retries or []}
        )


def read_secret(secret: Secret, spec_file: str, environ: Mapping[str, str]) -> str:
    """The secret's value, registered so that nothing written shows it; UsageError (exit 2) naming the spec key
    when the variable or file is missing."""
    value = _secret_value(secret, spec_file, environ)
    keep_secret(value)
    return value


def _secret_value(secret: Secret, spec_file: str, environ: Mapping[str, str]) -> str:
    if secret.env is not None:
        value = environ.get(secret.env, "")
        if not value.strip():
            raise UsageError(f"{spec_file}: {secret.key}: expected the environment variable {secret.env} to be set "
                             "and non-empty")
        if "\n" in value.strip() or "\r" in value:
            raise UsageError(f"{spec_file}: {secret.key}: expected the environment variable {secret.env} to hold "
                             "one line")
        return value.strip()
    assert secret.file is not None
    try:
        value = Path(secret.file).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        why = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise UsageError(f"{spec_file}: {secret.key}: expected a readable file, got {str(secret.file)!r} "
                         f"({why or error.__class__.__name__})") from None
    if not value or "\n" in value or "\r" in value:
        raise UsageError(f"{spec_file}: {secret.key}: expected a file holding one non-empty line, "
                         f"got {str(secret.file)!r}")
    return value


class PrometheusClient:
    """One configured session to one Prometheus; `get` runs an API call with retries under the deadline."""

    def __init__(self, spec: PrometheusSpec, environ: Mapping[str, str] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        environ = os.environ if environ is None else environ
        self.spec, self.sleep = spec, sleep
        self.log = QueryLog()
        session = requests.Session()  # trust_env: HTTP(S)_PROXY / NO_PROXY and REQUESTS_CA_BUNDLE are honoured
        try:
            parts = urllib.parse.urlsplit(spec.url)
            parts.port  # noqa: B018 (raises ValueError on a bad port)
        except ValueError:
            parts = urllib.parse.urlsplit("")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"{spec.spec_file}: prometheus.url (or PROMETHEUS_URL): expected an http:// or https:// "
                             f"URL, got {spec.shown_url!r}")
        if parts.username is not None and (spec.bearer_token or spec.basic_auth_user):
            raise UsageError(f"{spec.spec_file}: prometheus.url (or PROMETHEUS_URL): expected no user:password@ "
                             "when a bearer token or basic_auth_user is set (both would set Authorization)")
        if parts.username is not None:  # user:pass@ in the URL is basic auth, never shown
            user, password = urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password or "")
            session.auth = (user, password)
            keep_credentials(user, password)
            keep_url_credentials(spec.url)
            parts = parts._replace(netloc=parts.netloc.rsplit("@", 1)[1])
        self.base = urllib.parse.urlunsplit(parts).rstrip("/")
        if spec.bearer_token is not None:
            token = read_secret(spec.bearer_token, spec.spec_file, environ)
            session.headers["Authorization"] = f"Bearer {token}"
        if spec.basic_auth_user is not None and spec.basic_auth_password is not None:
            password = read_secret(spec.basic_auth_password, spec.spec_file, environ)
            keep_credentials(spec.basic_auth_user, password)
            session.auth = (spec.basic_auth_user, password)
        for header in spec.headers:
            value = header.value if header.secret is None else read_secret(header.secret, spec.spec_file, environ)
            session.headers[header.name] = value or ""
        self._tls(session, spec)
        self.session = session
        self.connect = PrometheusConnect(url=self.base, session=session, timeout=spec.timeout)
        session.mount(self.base, HTTPAdapter())  # no urllib3 retries under ours (the library mounts its own)
        self.retry_budget = spec.retry_deadline  # seconds of retrying left for the whole run

    def _tls(self, session: requests.Session, spec: PrometheusSpec) -> None:
        for key, path in (("ca_file", spec.ca_file), ("client_cert_file", spec.client_cert_file),
                          ("client_key_file", spec.client_key_file)):
            if path is not None and not Path(path).is_file():
                raise UsageError(f"{spec.spec_file}: prometheus.{key}: expected an existing file, got {str(path)!r}")
        # Passed with every request too: requests lets REQUESTS_CA_BUNDLE override a session's own `verify`.
        self.verify: bool | str | None = None
        if spec.tls_insecure:  # said once in the report and verdict.json, not on every request
            session.verify = self.verify = False
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        elif spec.ca_file is not None:
            session.verify = self.verify = str(spec.ca_file)
        if spec.client_cert_file is not None:
            session.cert = (str(spec.client_cert_file), str(spec.client_key_file))

    def clean(self, text: str) -> str:
        """`text` with every credential this client knows masked."""
        return redact(text)

    def get(self, name: str, path: str, params: dict[str, str], shown: str, at: float) -> Any:
        """GET `path` (e.g. /api/v1/query) and return its `data`, logged under `name` with the query `shown`."""
        started, retries = time.monotonic(), list[dict[str, Any]]()
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.session.get(
                    self.base + path, params=params, timeout=self.spec.timeout, verify=self.verify
                )
            except requests.exceptions.SSLError as error:
                raise self._give_up(name, shown, at, retries, f"TLS failed: {_cause(error)}") from None
            except requests.exceptions.RequestException as error:
                why, delay = f"{error.__class__.__name__}: {_cause(error)}", None
            else:
                body = _json(response)
                if response.status_code == 200 and body.get("status") == "success":
                    warnings = [self.clean(str(w)) for w in body.get("warnings") or []]
                    self.log.add(name, shown, at, result=body.get("data", {}).get("result"), warnings=warnings,
                                 retries=retries)
                    return body.get("data", {})
                why = self.clean(_http_error(response, body))
                if response.status_code in REFUSED_STATUSES:
                    raise self._give_up(name, shown, at, retries, f"refused: {why}") from None
                if response.status_code not in RETRY_STATUSES:
                    self.log.add(name, shown, at, error=why, retries=retries)
                    raise QueryFailed(f"query '{name}' failed: {why}", response.status_code,
                                      str(body.get("errorType", "")), self.clean(str(body.get("error", why))))
                delay = _retry_after(response.headers.get("Retry-After"))
            wait = max(delay or 0.0, _backoff(attempt))
            spent = time.monotonic() - started
            if spent + wait > self.spec.retry_deadline or wait > self.retry_budget:
                tried = f"{attempt} attempt{'s' if attempt > 1 else ''} in {spent:.1f} s"
                limit = f"retry_deadline {self.spec.retry_deadline:g} s"
                asked = f"; asked to retry after {delay:g} s" if delay else ""
                raise self._give_up(name, shown, at, retries, f"{why} ({tried}, {limit}{asked})") from None
            retries.append({"attempt": attempt, "error": self.clean(why), "wait_s": round(wait, 3)})
            self.retry_budget -= wait
            self.sleep(wait)

    def _give_up(self, name: str, shown: str, at: float, retries: list[dict[str, Any]], why: str) -> Exception:
        why = self.clean(why)
        self.log.add(name, shown, at, error=why, retries=retries)
        return PrometheusUnavailable(f"Prometheus at {self.spec.shown_url}: query '{name}' `{shown}`: {why}")

    def instant(self, name: str, query: str, at: float) -> Any:
        """An instant query's result at `at`."""
        return self.get(name, "/api/v1/query", {"query": query, "time": f"{at:.3f}"}, query, at)["result"]

    def over_range(self, name: str, query: str, start: float, end: float, step: float) -> Any:
        """A range query's result over [start, end] at `step` seconds, logged with its range."""
        shown = range_text(query, start, end, step)
        params = {"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        return self.get(name, "/api/v1/query_range", params, shown, end)["result"]

    def series(self, match: str, start: float, end: float) -> list[dict[str, str]]:
        """The label sets of every series matching `match` in [start, end] (prometheus-api-client's get_series);
        a failure is QueryFailed with the server's text, never retried: callers treat it as a fact not checked."""
        moments = [datetime.fromtimestamp(t, UTC) for t in (start, end)]
        try:
            return list(self.connect.get_series(*moments, params={"match[]": match}))
        except (PrometheusApiClientException, requests.exceptions.RequestException, ValueError) as error:
            raise QueryFailed(self.clean(f"series {match}: {_cause(error)}"), 0, "", self.clean(str(error))) from None


def range_text(query: str, start: float, end: float, step: float) -> str:
    """A range query as the log and the report show it."""
    shown = (datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds") for t in (start, end))
    return f"{query} (range {' → '.join(shown)}, step {step:g}s)"


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _http_error(response: requests.Response, body: dict[str, Any]) -> str:
    """`HTTP 400 bad_data: <Prometheus's error>`, or the first line of a non-JSON body (e.g. a proxy's page)."""
    head = f"HTTP {response.status_code} {response.reason or ''}".strip()
    if body.get("error"):
        return f"{head}: {body.get('errorType', 'error')}: {_one_line(str(body['error']))}"
    text = _one_line(re.sub(r"<[^>]+>", " ", response.text or ""))
    return f"{head}: {text}" if text else head


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _cause(error: BaseException) -> str:
    """The innermost reason of a requests/urllib3 error, without the long pool and URL text."""
    text = str(error)
    for pattern in (r"\[SSL[^\]]*\] ([^'\"(]+)", r"(\[Errno -?\d+\] [^'\")]+)", r"Caused by (\w+)\(", r"(timed out)"):
        found = re.search(pattern, text)
        if found:
            return _one_line(found.group(1).strip())
    return _one_line(text.splitlines()[0] if text else error.__class__.__name__, 200)


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date), None when absent or bad."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _backoff(attempt: int) -> float:
    """Exponential backoff with jitter: half the step fixed, half random, so clients do not retry in step."""
    step = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (attempt - 1))
    return step / 2 + random.uniform(0, step / 2)
