"""Helpers shared by the unit and integration tests: the Prometheus marker and the spec builders.

Test modules import them (`from tests.conftest import ...`); a free TCP port comes from the package's own
`validator.net.free_port`.
"""

import locust  # noqa: F401, I001  (gevent patches ssl first, as in the slagate CLI; later TLS use needs it)

import json
from pathlib import Path

import pytest

from validator.demo.prometheus_server import PrometheusNotFound, find_prometheus

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = ROOT / "loadtests/locustfile.py"

MINIMAL_SPEC = """\
[service]
name = "{name}"
[target]
url = "{target}"
[load]
locustfile = {locustfile}
{load}
[prometheus]
url = "{prometheus}"
latency_histogram = "h"
request_counter = "c"
{extra}
[[gates]]
metric = "latency_p99"
max = "1s"
"""


def _have_prometheus() -> bool:
    try:
        find_prometheus()
    except PrometheusNotFound:
        return False
    return True


needs_prometheus = pytest.mark.skipif(
    not _have_prometheus(),
    reason="no prometheus binary: apt-get install -y prometheus, or set PROMETHEUS_BIN",
)


def write_spec(
    tmp_path: Path,
    load: str = "",
    extra: str = "",
    *,
    name: str = "svc",
    target: str = "http://127.0.0.1:1",
    prometheus: str = "http://127.0.0.1:2",
    locustfile: Path | None = None,
    filename: str = "sla.toml",
) -> Path:
    """A minimal sla.toml in tmp_path (one latency_p99 gate) with extra [load] lines and extra tables.

    Without `locustfile`, an empty tmp_path/locustfile.py is created and referenced relative to the spec.
    """
    if locustfile is None:
        (tmp_path / "locustfile.py").write_text("")
        locustfile = Path("locustfile.py")
    path = tmp_path / filename
    path.write_text(
        MINIMAL_SPEC.format(
            name=name,
            target=target,
            prometheus=prometheus,
            locustfile=json.dumps(str(locustfile)),
            load=load,
            extra=extra,
        )
    )
    return path


def pin_reference(spec: Path, baseline: str | None = None) -> Path:
    """A demo spec with p99's cumulative drift (`max_drift = "25%"`) pinned to the demo's reference 1.0.0, judged
    per release against demo `baseline` (default: the spec's own)."""
    text = spec.read_text()
    if baseline is not None:
        text = text.replace("baselines/demo/1.0.0.json", f"baselines/demo/{baseline}.json", 1)
    reference = json.dumps(str(ROOT / "baselines/demo/1.0.0.json"))
    text = text.replace("[baseline]\n", f"[baseline]\nreference = {reference}\n", 1)
    spec.write_text(text.replace('max = "250ms"\nmax_regression = "15%"\n',
                                 'max = "250ms"\nmax_regression = "15%"\nmax_drift = "25%"\n', 1))
    return spec


def demo_spec(
    tmp_path: Path, load: str = "", extra: str = "", *, duration: str = "10s", locustfile: Path = LOCUSTFILE
) -> Path:
    """The shipped demo spec as tmp_path/sla.toml: a short load (2 s warm-up), absolute paths,
    extra [load] lines after the locustfile and extra tables (e.g. gates) at the end."""
    text = (ROOT / "sla.toml").read_text()
    replacements = {
        'duration = "30s"': f'duration = "{duration}"',
        'warmup = "5s"': 'warmup = "2s"',
        '"loadtests/locustfile.py"': json.dumps(str(locustfile)) + "\n" + load,
        '"baselines/demo/1.0.0.json"': json.dumps(str(ROOT / "baselines/demo/1.0.0.json"))
        + '\ntolerance = "80%"  # short test loads (7-12 s) against the 30 s demo baseline are comparable',
        '"checklists/production-readiness.md.j2"': json.dumps(str(ROOT / "checklists/production-readiness.md.j2")),
    }
    for old, new in replacements.items():
        assert old in text, f"the shipped sla.toml no longer has {old}"
        text = text.replace(old, new)
    path = tmp_path / "sla.toml"
    path.write_text(text + extra)
    return path
