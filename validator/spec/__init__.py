"""Load `sla.toml` into frozen dataclasses; every error names the file, the key path and what was expected.

One spec drives everything: the load profile, the Prometheus queries, the gates and the rollout.
`ENDPOINT` and `PROMETHEUS_URL` in the environment override the target and the Prometheus URL, as
release pipelines already export them.
"""

import os
import tomllib
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, get_args

from validator.redact import keep_url_credentials, redact_url
from validator.spec.baseline import BaselineSpec, baseline_section
from validator.spec.gates import GateSpec, gates_section
from validator.spec.load import LoadSpec, load_section
from validator.spec.prometheus import PrometheusSpec, prometheus_section
from validator.spec.reader import (
    PATH_NAME_EXPECTED,
    Reader,
    SpecError,
    choice,
    fraction_between,
    path_name,
    positive_int,
)
from validator.spec.rollout import RolloutPlan, RolloutSpec, Stage, Waiver, rollout_section, waivers_section
from validator.spec.rules import RulesSpec, SloSpec, rules_section
from validator.spec.units import parse_number

ResamplingMethod = Literal["auto", "exact", "block"]
RESAMPLING_METHODS: tuple[ResamplingMethod, ...] = get_args(ResamplingMethod)
MIN_RESAMPLES = 100
MAX_RESAMPLES = 100_000  # beyond this the intervals do not change, only the memory (10^8 would take ~10 GiB)
Multiplicity = Literal["margin", "bonferroni"]
MULTIPLICITY: tuple[Multiplicity, ...] = get_args(Multiplicity)
LEVEL_EXPECTED = "a confidence level above 50% and below 100%, such as 0.95 or '95%'"

__all__ = [
    "GateSpec",
    "LoadSpec",
    "PrometheusSpec",
    "Resampling",
    "RolloutPlan",
    "RolloutSpec",
    "RulesSpec",
    "SloSpec",
    "Spec",
    "SpecError",
    "Stage",
    "Waiver",
    "load_spec",
]


@dataclass(frozen=True)
class Resampling:
    """How quantile intervals are computed ([confidence] method, resamples): `auto` | `exact` | `block`, bootstrap
    resamples and the seed."""

    method: ResamplingMethod = "auto"
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
    baseline_file: Path | None  # [baseline] file when it names a file (None for latest or SERVICE@VERSION)
    level: float  # the one-sided level each bound is proven at ([confidence] level)
    gates: tuple[GateSpec, ...] = field(default_factory=tuple)
    checklist: Path | None = None
    client_server_gap: float = 2.0  # flag client vs Prometheus quantiles further apart than this factor
    resampling: Resampling = Resampling()  # [confidence] method, resamples
    multiplicity: Multiplicity = "margin"  # [confidence] multiplicity
    rollout: RolloutSpec = RolloutSpec()  # [rollout]: the staged plans a GO and a CAUTION follow
    waivers: tuple[Waiver, ...] = ()  # [[waivers]]: warning gates allowed to stand short until a date
    rules: RulesSpec = RulesSpec()  # [rules]: the alert rules and dashboard that watch the canary
    baseline: BaselineSpec = BaselineSpec()  # [baseline]: file or version, folder, load-mismatch policy

    @property
    def shown_target(self) -> str:
        """The target URL as every artifact, log and message shows it: without `user:password@`."""
        return redact_url(self.target_url)

    def with_endpoints(self, target_url: str | None = None, prometheus_url: str | None = None) -> "Spec":
        """A copy pointing at other URLs (the demo stack, or the ENDPOINT/PROMETHEUS_URL overrides)."""
        spec = self
        if target_url:
            spec = replace(spec, target_url=target_url)
        if prometheus_url:
            spec = replace(spec, prometheus=replace(spec.prometheus, url=prometheus_url))
        return spec


def _resampling(table: Reader) -> Resampling:
    method = table.get("method", choice(RESAMPLING_METHODS), "'auto', 'exact' or 'block'", Resampling.method)
    resamples = table.get("resamples", positive_int, "a whole number of resamples", Resampling.resamples)
    if not MIN_RESAMPLES <= resamples <= MAX_RESAMPLES:
        expected = f"{MIN_RESAMPLES} to {MAX_RESAMPLES} resamples (2000 or more for stable 95 % intervals)"
        raise table.fail("resamples", expected, resamples)
    return Resampling(method, resamples)


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
    except UnicodeDecodeError as error:
        raise SpecError(path, "(encoding)", f"UTF-8 text (byte {error.start} is not)") from None
    except RecursionError:
        raise SpecError(path, "(syntax)", "TOML nested less deeply") from None
    root = Reader(path, document, "")
    base_dir = path.parent
    baseline = baseline_section(root.sub("baseline", required=False), base_dir)
    spec = Spec(
        path=path,
        service=root.sub("service").get("name", path_name, PATH_NAME_EXPECTED),
        version=root.sub("service").get("version", path_name, PATH_NAME_EXPECTED, "unknown"),
        target_url=root.sub("target").text("url"),
        load=load_section(root.sub("load"), base_dir),
        prometheus=prometheus_section(root.sub("prometheus")),
        baseline_file=baseline.path,
        baseline=baseline,
        level=root.sub("confidence", required=False).get(
            "level", fraction_between(0.5, 1.0, LEVEL_EXPECTED), LEVEL_EXPECTED, 0.95
        ),
        gates=gates_section(root, path),
        checklist=_checklist(root.sub("report", required=False), base_dir),
        client_server_gap=root.sub("report", required=False).get(
            "client_server_gap", _gap_factor, "", Spec.client_server_gap
        ),
        resampling=_resampling(root.sub("confidence", required=False)),
        multiplicity=root.sub("confidence", required=False).get(
            "multiplicity", choice(MULTIPLICITY), "'margin' or 'bonferroni'", Spec.multiplicity
        ),
    )
    spec = replace(
        spec, rollout=rollout_section(root.sub("rollout", required=False)), waivers=waivers_section(root, spec.gates)
    )
    spec = replace(spec, rules=rules_section(root.sub("rules", required=False)))
    root.refuse_unknown()
    _check_routes(spec)
    overrides = {name: environ.get(name) for name in ("ENDPOINT", "PROMETHEUS_URL")}
    for name, value in overrides.items():
        if value:
            _check_url(path, f"{name} (overrides {'target' if name == 'ENDPOINT' else 'prometheus'}.url)", value)
    _check_url(path, "target.url", spec.target_url)
    _check_url(path, "prometheus.url", spec.prometheus.url)
    spec = spec.with_endpoints(overrides["ENDPOINT"], overrides["PROMETHEUS_URL"])
    keep_url_credentials(spec.target_url)
    keep_url_credentials(spec.prometheus.url)
    return spec


def _check_url(path: Path, key: str, url: str) -> None:
    """An http(s) URL with a host and a valid port, or a SpecError naming `key` (credentials never shown)."""
    try:
        parts = urllib.parse.urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port is None or parts.port > 0)
    except ValueError:  # a port out of range, an unclosed [ipv6 bracket
        valid = False
    if not valid:
        expected = "an http:// or https:// URL with a host and a port in 1-65535"
        if "@" in url.partition("://")[2]:
            expected += " (a password holding / ? # or @ must be percent-encoded, e.g. %2F for /)"
        raise SpecError(path, key, expected, redact_url(url))

def _check_routes(spec: Spec) -> None:
    """A gate's `route` needs the route label it is matched on (`prometheus.route_label`, or the preset's), and its
    `max_drift` the reference baseline it is measured from (`baseline.reference`)."""
    for index, gate in enumerate(spec.gates):
        if gate.route is not None and gate.source != "client" and spec.prometheus.route_label is None:
            raise SpecError(spec.path, f"gates[{index}].route", "prometheus.route_label (or a preset with one) to "
                            "match a route on, or source = \"client\"")
        if gate.max_drift is not None and spec.baseline.reference is None:
            raise SpecError(spec.path, f"gates[{index}].max_drift", "baseline.reference as well: the pinned baseline "
                            "(a version such as \"1.0.0\", or a file) the drift is measured from")


def _gap_factor(value: object) -> float:
    factor = parse_number(value)
    if not factor > 1:
        raise ValueError("a factor greater than 1, such as 2")
    return factor


def _checklist(table: Reader, base_dir: Path) -> Path | None:
    name = table.text("checklist", None)
    if name is None:
        return None
    path = base_dir / name
    if not path.is_file():
        raise table.fail("checklist", "a path to an existing checklist template (relative to the spec)", str(path))
    return path
