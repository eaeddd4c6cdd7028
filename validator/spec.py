"""Load `sla.toml` into frozen dataclasses; every error names the file, the key path and what was expected.

One spec drives everything: the load profile, the Prometheus queries, the gates and the rollout.
`ENDPOINT` and `PROMETHEUS_URL` in the environment override the target and the Prometheus URL, as
release pipelines already export them.
"""

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from validator.errors import InputFileError
from validator.metrics import BUILTIN_METRICS, MetricDefinition, custom_metric
from validator.units import parse_duration, parse_fraction, parse_number, parse_rate

SEVERITIES = ("critical", "warning")
RESAMPLING_METHODS = ("auto", "exact", "block")
MIN_RESAMPLES = 100
ARRIVALS = ("poisson", "fixed")
OPEN_MODEL_DEFAULT_USERS = 100  # open model: the pool of users that serve the timetable's slots


class SpecError(InputFileError):
    """A spec that cannot be used; the message is one line: file, key path, expectation, value."""


@dataclass(frozen=True)
class LoadSpec:
    """The synthetic load: a Locust scenario, how many users, how fast they arrive, for how long."""

    locustfile: Path
    users: int = 20
    spawn_rate: float = 20.0
    duration: float = 30.0
    warmup: float = 5.0
    workers: int = 1  # 1: in this process; N > 1: a Locust master plus N local worker processes
    arrival_rate: float | None = None  # open model (requests/s); None: closed model (users loop)
    arrival: str = "poisson"  # open model timetable: "poisson" or "fixed" spacing
    ramp: float = 0.0  # open model: seconds of linear ramp from 0 to arrival_rate
    repeat: int = 1  # k ≥ 2: k runs back to back, judged together (ratios from the spread of the runs' own estimates)

    @property
    def open_model(self) -> bool:
        return self.arrival_rate is not None


@dataclass(frozen=True)
class PrometheusSpec:
    """Where the service's metrics live and which series hold latency and request outcomes."""

    url: str
    latency_histogram: str
    request_counter: str
    selector: str = ""
    error_label: str = "code"
    error_regex: str = "5.."
    scrape_interval: float = 15.0
    timeout: float = 10.0
    bearer_token_env: str | None = None


@dataclass(frozen=True)
class GateSpec:
    """One gate: a metric, a severity, absolute bounds and/or a tolerance against the baseline."""

    name: str
    metric: MetricDefinition
    severity: str
    max: float | None = None
    min: float | None = None
    max_regression: float | None = None
    query: str | None = None

    @property
    def is_custom(self) -> bool:
        return self.query is not None


@dataclass(frozen=True)
class Resampling:
    """How quantile intervals are computed ([confidence] method, resamples): `auto` | `exact` | `block`, bootstrap
    resamples and the seed."""

    method: str = "auto"
    resamples: int = 2_000
    seed: int = 20261123  # fixed, so a re-rendered verdict is identical


@dataclass(frozen=True)
class Spec:
    """The whole validation: service, target, load, Prometheus, baseline, confidence and gates."""

    path: Path
    service: str
    version: str
    target_url: str
    load: LoadSpec
    prometheus: PrometheusSpec
    baseline_file: Path | None
    level: float  # the one-sided level each bound is proven at ([confidence] level)
    gates: tuple[GateSpec, ...] = field(default_factory=tuple)
    checklist: Path | None = None
    client_server_gap: float = 2.0  # flag client vs Prometheus quantiles further apart than this factor
    resampling: Resampling = Resampling()  # [confidence] method, resamples
    multiplicity: str = "margin"  # [confidence] multiplicity: "margin" or "bonferroni"

    def with_endpoints(self, target_url: str | None = None, prometheus_url: str | None = None) -> "Spec":
        """A copy pointing at other URLs (the demo stack, or the ENDPOINT/PROMETHEUS_URL overrides)."""
        spec = self
        if target_url:
            spec = replace(spec, target_url=target_url)
        if prometheus_url:
            spec = replace(spec, prometheus=replace(spec.prometheus, url=prometheus_url))
        return spec


class _Reader:
    """Typed access to one TOML table that reports errors with the full key path."""

    def __init__(self, path: Path, table: Mapping[str, Any], prefix: str) -> None:
        self.path, self.table, self.prefix = path, table, prefix

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def fail(self, name: str, expected: str, got: object = None) -> SpecError:
        return SpecError(self.path, self.key(name), expected, got)

    def get(self, name: str, parse: Callable[[object], Any], expected: str, default: Any = ...) -> Any:
        if name not in self.table:
            if default is ...:
                raise self.fail(name, f"{expected} (the key is missing)")
            return default
        value = self.table[name]
        try:
            return parse(value)
        except (TypeError, ValueError) as error:
            raise self.fail(name, str(error) or expected, value) from None

    def text(self, name: str, default: Any = ...) -> str:
        return self.get(name, _nonempty_string, "a non-empty string", default)

    def sub(self, name: str, required: bool = True) -> "_Reader":
        value = self.table.get(name)
        if value is None and not required:
            return _Reader(self.path, {}, self.key(name))
        if not isinstance(value, Mapping):
            raise self.fail(name, f"a table [{self.key(name)}]", value)
        return _Reader(self.path, value, self.key(name))


def _nonempty_string(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a non-empty string")
    return value


def _positive(parse: Callable[[object], float], what: str) -> Callable[[object], float]:
    def parse_positive(value: object) -> float:
        number = parse(value)
        if not number > 0:
            raise ValueError(f"{what} greater than zero")
        return number

    return parse_positive


def _non_negative_duration(value: object) -> float:
    seconds = parse_duration(value)
    if seconds < 0:
        raise ValueError("a duration of zero or more, such as '5s'")
    return seconds


def _positive_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("a whole number of at least 1")
    return value


MULTIPLICITY = ("margin", "bonferroni")


def _choice(options: tuple[str, ...]) -> Callable[[object], str]:
    def parse_choice(value: object) -> str:
        if value not in options:
            raise ValueError(" or ".join(f"'{option}'" for option in options))
        return str(value)

    return parse_choice


def _resampling(table: "_Reader") -> Resampling:
    method = table.get("method", _choice(RESAMPLING_METHODS), "'auto', 'exact' or 'block'", Resampling.method)
    resamples = table.get("resamples", _positive_int, "a whole number of resamples", Resampling.resamples)
    if resamples < MIN_RESAMPLES:
        expected = f"at least {MIN_RESAMPLES} resamples (2000 or more for stable 95 % intervals)"
        raise table.fail("resamples", expected, resamples)
    return Resampling(method, resamples)


def _confidence_level(value: object) -> float:
    level = parse_fraction(value)
    if not 0.5 < level < 1.0:
        raise ValueError("a confidence level above 50% and below 100%, such as 0.95 or '95%'")
    return level


def _regression(value: object) -> float:
    tolerance = parse_fraction(value)
    if tolerance < 0:
        raise ValueError("a non-negative tolerance such as '10%'")
    return tolerance


def load_spec(path: Path | str, environ: Mapping[str, str] | None = None) -> Spec:
    """Read and validate a spec file; ENDPOINT and PROMETHEUS_URL from `environ` override its URLs."""
    path = Path(path)
    environ = os.environ if environ is None else environ
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        raise SpecError(path, "(file)", "an existing spec file") from None
    except tomllib.TOMLDecodeError as error:
        raise SpecError(path, "(syntax)", f"valid TOML ({error})") from None
    root = _Reader(path, document, "")
    base_dir = path.parent
    spec = Spec(
        path=path,
        service=root.sub("service").text("name"),
        version=root.sub("service").text("version", "unknown"),
        target_url=root.sub("target").text("url"),
        load=_load_section(root.sub("load"), base_dir),
        prometheus=_prometheus_section(root.sub("prometheus")),
        baseline_file=_baseline_file(root.sub("baseline", required=False), base_dir),
        level=root.sub("confidence", required=False).get("level", _confidence_level, "", 0.95),
        gates=_gates(root, path),
        checklist=_checklist(root.sub("report", required=False), base_dir),
        client_server_gap=root.sub("report", required=False).get(
            "client_server_gap", _gap_factor, "", Spec.client_server_gap
        ),
        resampling=_resampling(root.sub("confidence", required=False)),
        multiplicity=root.sub("confidence", required=False).get(
            "multiplicity", _choice(MULTIPLICITY), "'margin' or 'bonferroni'", Spec.multiplicity
        ),
    )
    return spec.with_endpoints(environ.get("ENDPOINT"), environ.get("PROMETHEUS_URL"))


def _load_section(table: _Reader, base_dir: Path) -> LoadSpec:
    locustfile = base_dir / table.text("locustfile")
    if not locustfile.is_file():
        raise table.fail("locustfile", "a path to an existing locustfile (relative to the spec)", str(locustfile))
    arrival_rate = table.get("arrival_rate", _positive(parse_rate, "a rate"), "", None)
    default_users = LoadSpec.users if arrival_rate is None else OPEN_MODEL_DEFAULT_USERS
    users = table.get("users", _positive_int, "a whole number of users", default_users)
    default_spawn_rate = LoadSpec.spawn_rate if arrival_rate is None else float(users)  # open: whole pool at once
    load = LoadSpec(
        locustfile=locustfile,
        users=users,
        spawn_rate=table.get("spawn_rate", _positive(parse_rate, "users per second"), "", default_spawn_rate),
        duration=table.get("duration", _positive(parse_duration, "a duration"), "", LoadSpec.duration),
        warmup=table.get("warmup", _non_negative_duration, "", LoadSpec.warmup),
        workers=table.get("workers", _workers, "a whole number of worker processes or 'auto'", LoadSpec.workers),
        arrival_rate=arrival_rate,
        arrival=table.get("arrival", _choice(ARRIVALS), "'poisson' or 'fixed'", LoadSpec.arrival),
        ramp=table.get("ramp", _non_negative_duration, "", LoadSpec.ramp),
        repeat=table.get("repeat", _positive_int, "a whole number of runs", LoadSpec.repeat),
    )
    if load.warmup >= load.duration:
        raise table.fail("warmup", f"less than load.duration ({load.duration:g}s)", load.warmup)
    if load.arrival_rate is None:
        for key in ("arrival", "ramp"):
            if key in table.table:
                raise table.fail(key, "load.arrival_rate as well (it applies to the open model only)")
    elif load.ramp > load.warmup:
        raise table.fail("ramp", f"at most load.warmup ({load.warmup:g}s), so the steady window has the full rate")
    return load


def _workers(value: object) -> int:
    if value == "auto":
        return os.cpu_count() or 1
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("a whole number of worker processes (at least 1) or 'auto' (one per core)")
    return value


def _gap_factor(value: object) -> float:
    factor = parse_number(value)
    if not factor > 1:
        raise ValueError("a factor greater than 1, such as 2")
    return factor


def _prometheus_section(table: _Reader) -> PrometheusSpec:
    return PrometheusSpec(
        url=table.text("url"),
        latency_histogram=table.text("latency_histogram"),
        request_counter=table.text("request_counter"),
        selector=table.get("selector", _selector, "label matchers such as 'job=\"api\"'", ""),
        error_label=table.text("error_label", PrometheusSpec.error_label),
        error_regex=table.text("error_regex", PrometheusSpec.error_regex),
        scrape_interval=table.get(
            "scrape_interval", _positive(parse_duration, "a duration"), "", PrometheusSpec.scrape_interval
        ),
        timeout=table.get("timeout", _positive(parse_duration, "a duration"), "", PrometheusSpec.timeout),
        bearer_token_env=table.text("bearer_token_env", None),
    )


def _selector(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("label matchers such as 'job=\"api\"'")
    return value.strip().removeprefix("{").removesuffix("}").strip()


def _baseline_file(table: _Reader, base_dir: Path) -> Path | None:
    name = table.text("file", None)
    return None if name is None else base_dir / name


def _checklist(table: _Reader, base_dir: Path) -> Path | None:
    name = table.text("checklist", None)
    if name is None:
        return None
    path = base_dir / name
    if not path.is_file():
        raise table.fail("checklist", "a path to an existing checklist template (relative to the spec)", str(path))
    return path


def _gates(root: _Reader, path: Path) -> tuple[GateSpec, ...]:
    entries = root.table.get("gates")
    if not isinstance(entries, list) or not entries:
        raise SpecError(path, "gates", "at least one [[gates]] table")
    gates = tuple(_gate(_Reader(path, entry, f"gates[{i}]"), entry) for i, entry in enumerate(entries))
    names = [gate.name for gate in gates]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise SpecError(path, "gates", "distinct gate names", duplicates[0])
    return gates


def _gate(table: _Reader, entry: object) -> GateSpec:
    if not isinstance(entry, Mapping):
        raise table.fail("", "a table", entry)
    query = table.text("query", None)
    higher_is_better = table.get("higher_is_better", _boolean, "true or false", False)
    if query is not None:
        metric = custom_metric(table.text("name"), higher_is_better)
    else:
        metric_name = table.text("metric")
        if metric_name not in BUILTIN_METRICS:
            known = ", ".join(BUILTIN_METRICS)
            raise table.fail("metric", f"one of {known} (or a `query` with custom PromQL)", metric_name)
        metric = BUILTIN_METRICS[metric_name]
    bound_form = "a bound in the metric's unit (e.g. '250ms', '99.5%', '500/s')"
    gate = GateSpec(
        name=table.text("name", metric.name),
        metric=metric,
        severity=table.get("severity", _choice(SEVERITIES), "'critical' or 'warning'", "critical"),
        max=table.get("max", metric.parse_bound, bound_form, None),
        min=table.get("min", metric.parse_bound, bound_form, None),
        max_regression=table.get("max_regression", _regression, "a tolerance such as '10%'", None),
        query=query,
    )
    if gate.max is None and gate.min is None and gate.max_regression is None:
        raise table.fail("max", "at least one of max, min or max_regression")
    return gate


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value
