"""`[prometheus]`: where the service's metrics live, how to reach them (auth, tenant headers, TLS, retries) and
which series hold latency and request outcomes (a `preset` names them for common libraries)."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from validator.redact import redact_url
from validator.spec.presets import PRESETS, UNIT_SECONDS
from validator.spec.promql import check_matchers, is_label_name, is_metric_name
from validator.spec.reader import Reader, at_most, boolean, choice, positive
from validator.spec.units import parse_duration

HistogramKind = Literal["classic", "native"]
HISTOGRAM_KINDS: tuple[HistogramKind, ...] = get_args(HistogramKind)
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

UP_TO_AN_HOUR = at_most(positive(parse_duration, "a duration"), 3600.0, "a duration greater than zero and at most 1h")


@dataclass(frozen=True)
class Secret:
    """Where a credential is read from when the client is built: an environment variable or a file; `key` is
    the spec key path that named it, for the error when it is missing."""

    key: str
    env: str | None = None
    file: Path | None = None


@dataclass(frozen=True)
class Header:
    """One extra request header: a literal value, or a secret read from an environment variable or file."""

    name: str
    value: str | None = None
    secret: Secret | None = None


@dataclass(frozen=True)
class PrometheusSpec:
    """Where the service's metrics live, how to reach them, and which series hold latency and request outcomes."""

    url: str
    latency_histogram: str
    request_counter: str
    selector: str = ""
    error_label: str = "code"
    error_regex: str = "5.."
    scrape_interval: float = 15.0
    timeout: float = 10.0
    preset: str | None = None
    route_label: str | None = None
    latency_unit: str = "s"
    histogram: HistogramKind = "classic"  # how latency_histogram is kept: classic `_bucket` series or one native
    bearer_token: Secret | None = None
    basic_auth_user: str | None = None
    basic_auth_password: Secret | None = None
    headers: tuple[Header, ...] = field(default_factory=tuple)
    ca_file: Path | None = None
    client_cert_file: Path | None = None
    client_key_file: Path | None = None
    tls_insecure: bool = False
    retry_deadline: float = 60.0
    spec_file: str = "sla.toml"

    @property
    def shown_url(self) -> str:
        """The URL as every artifact, log and message shows it: without `user:password@`."""
        return redact_url(self.url)

    @property
    def latency_scale(self) -> float:
        """Seconds per unit of the histogram's `le` bounds."""
        return UNIT_SECONDS[self.latency_unit]




def prometheus_section(table: Reader) -> PrometheusSpec:
    preset_name = table.get("preset", choice(tuple(PRESETS)), "", None)
    preset = PRESETS.get(preset_name) if preset_name else None
    base_dir = table.path.parent
    defaults = PrometheusSpec("", "", "")
    spec = PrometheusSpec(
        url=table.text("url"),
        latency_histogram=table.get("latency_histogram", _metric_name, "a metric name",
                                    preset.latency_histogram if preset else ...),
        request_counter=table.get("request_counter", _metric_name, "a metric name",
                                  preset.request_counter if preset else ...),
        selector=table.get("selector", selector, "label matchers such as 'job=\"api\"'", ""),
        error_label=table.get("error_label", _label, "", preset.error_label if preset else defaults.error_label),
        error_regex=table.text("error_regex", preset.error_regex if preset else defaults.error_regex),
        scrape_interval=table.get(
            "scrape_interval", UP_TO_AN_HOUR, "", defaults.scrape_interval
        ),
        timeout=table.get("timeout", UP_TO_AN_HOUR, "", defaults.timeout),
        preset=preset_name,
        route_label=table.get("route_label", _label, "", preset.route_label if preset else None),
        latency_unit=table.get(
            "latency_unit", choice(tuple(UNIT_SECONDS)), "", preset.latency_unit if preset else "s"
        ),
        histogram=table.get("histogram", choice(HISTOGRAM_KINDS), "", "classic"),
        bearer_token=_secret(table, "bearer_token", base_dir),
        basic_auth_user=table.text("basic_auth_user", None),
        basic_auth_password=_secret(table, "basic_auth_password", base_dir),
        headers=_headers(table, base_dir),
        ca_file=_file(table, "ca_file", base_dir),
        client_cert_file=_file(table, "client_cert_file", base_dir),
        client_key_file=_file(table, "client_key_file", base_dir),
        tls_insecure=table.get("tls_insecure", boolean, "true or false", False),
        retry_deadline=table.get("retry_deadline", UP_TO_AN_HOUR, "", 60.0),
        spec_file=str(table.path),
    )
    if (spec.basic_auth_user is None) != (spec.basic_auth_password is None):
        raise table.fail("basic_auth_user", "basic_auth_user together with basic_auth_password_env or _file")
    if (spec.client_cert_file is None) != (spec.client_key_file is None):
        raise table.fail("client_cert_file", "client_cert_file and client_key_file together")
    if spec.bearer_token is not None and spec.basic_auth_user is not None:
        raise table.fail("bearer_token_env", "either a bearer token or basic auth, not both")
    return spec


def selector(value: object) -> str:
    """A selector: label matchers, optionally in braces, and nothing else (promql.check_matchers)."""
    if not isinstance(value, str):
        raise ValueError("label matchers such as 'job=\"api\"'")
    return check_matchers(value.strip().removeprefix("{").removesuffix("}").strip())


def _metric_name(value: object) -> str:
    if not isinstance(value, str) or not is_metric_name(value):
        raise ValueError("a Prometheus metric name such as 'http_requests_total'")
    return value


def _label(value: object) -> str:
    if not isinstance(value, str) or not is_label_name(value):
        raise ValueError("a Prometheus label name such as 'status'")
    return value


def _secret(table: Reader, name: str, base_dir: Path) -> Secret | None:
    """`<name>_env` or `<name>_file` (not both) as a Secret, None when neither is set."""
    env = table.text(f"{name}_env", None)
    path = table.text(f"{name}_file", None)
    if env is not None and path is not None:
        raise table.fail(f"{name}_env", f"either {name}_env or {name}_file, not both")
    if env is not None:
        return Secret(table.key(f"{name}_env"), env=env)
    if path is not None:
        return Secret(table.key(f"{name}_file"), file=base_dir / path)
    return None


def _file(table: Reader, name: str, base_dir: Path) -> Path | None:
    path = table.text(name, None)
    return None if path is None else base_dir / path


def _headers(table: Reader, base_dir: Path) -> tuple[Header, ...]:
    """`headers = { "X-Scope-OrgID" = "tenant-1", Authorization = { env = "AUTH" } }`: a literal value, or a
    table with `env` or `file` whose value is a secret."""
    entries = table.get("headers", _table, "a table of header names to values", {})
    headers = []
    for name, value in entries.items():
        key = table.key(f"headers.{name}")
        if not _HEADER_NAME.match(str(name)):
            raise table.fail(f"headers.{name}", "an HTTP header name (letters, digits and -)")
        if isinstance(value, str) and not _CONTROL.search(value):
            headers.append(Header(name, value=value))
            continue
        source = next(iter(value.values())) if isinstance(value, Mapping) and len(value) == 1 else None
        if not (isinstance(source, str) and source.strip() and set(value) <= {"env", "file"}):
            raise table.fail(f"headers.{name}", "a one-line string, or a table { env = \"VAR\" } or "
                             "{ file = \"path\" }", value)
        secret = Secret(key, env=source) if "env" in value else Secret(key, file=base_dir / source)
        headers.append(Header(name, secret=secret))
    return tuple(headers)


def _table(value: object) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise ValueError("a table of header names to values")
    return value
