"""The spec loader: the shipped example loads, overrides apply, and bad input names file and key."""

from pathlib import Path

import pytest

from validator.spec import Resampling, SpecError, load_spec

ROOT = Path(__file__).resolve().parents[2]


def write_spec(tmp_path: Path, body: str) -> Path:
    (tmp_path / "locustfile.py").write_text("")
    path = tmp_path / "sla.toml"
    path.write_text(body)
    return path


MINIMAL = """
[service]
name = "svc"
[target]
url = "http://127.0.0.1:1"
[load]
locustfile = "locustfile.py"
[prometheus]
url = "http://127.0.0.1:2"
latency_histogram = "h"
request_counter = "c"
{extra}
[[gates]]
name = "p99"
metric = "latency_p99"
max = "{bound}"
"""


def test_example_spec_loads_with_units_converted() -> None:
    spec = load_spec(ROOT / "sla.toml", environ={})
    p99 = next(g for g in spec.gates if g.metric.name == "latency_p99")
    assert p99.max == pytest.approx(0.25)
    assert p99.max_regression == pytest.approx(0.15)
    success = next(g for g in spec.gates if g.metric.name == "success_rate")
    assert success.min == pytest.approx(0.99)
    assert spec.load.duration == 30 and spec.load.warmup == 5
    assert spec.baseline_file == ROOT / "baselines/demo/1.0.0.json"


def test_environment_overrides_target_and_prometheus() -> None:
    spec = load_spec(ROOT / "sla.toml", environ={"ENDPOINT": "http://127.0.0.1:9", "PROMETHEUS_URL": "http://x:1"})
    assert spec.target_url == "http://127.0.0.1:9"
    assert spec.prometheus.url == "http://x:1"


@pytest.mark.parametrize(
    ("bound", "extra", "key"),
    [
        ("fast", "", "gates[0].max"),
        ("200ms", "[confidence]\nlevel = 2", "confidence.level"),
        ("200ms", "[baseline]\nfile = 3", "baseline.file"),
        ("200ms", "[confidence]\nresamples = 99", "confidence.resamples"),
        ("200ms", '[confidence]\nmethod = "jackknife"', "confidence.method"),
    ],
)
def test_bad_values_name_file_and_key(tmp_path: Path, bound: str, extra: str, key: str) -> None:
    path = write_spec(tmp_path, MINIMAL.format(bound=bound, extra=extra))
    with pytest.raises(SpecError) as caught:
        load_spec(path, environ={})
    message = str(caught.value)
    assert str(path) in message and key in message and "expected" in message
    assert "\n" not in message


def test_confidence_section_gives_the_level_and_a_plain_resampling_setting(tmp_path: Path) -> None:
    extra = '[confidence]\nlevel = "90%"\nmethod = "block"\nresamples = 500'
    spec = load_spec(write_spec(tmp_path, MINIMAL.format(bound="1s", extra=extra)), environ={})
    assert spec.level == 0.9 and spec.resampling == Resampling("block", 500)
    assert load_spec(write_spec(tmp_path, MINIMAL.format(bound="1s", extra="")), environ={}).resampling == Resampling()


def test_unknown_metric_lists_the_known_ones(tmp_path: Path) -> None:
    path = write_spec(tmp_path, MINIMAL.format(bound="1s", extra="").replace("latency_p99", "latency_p42"))
    with pytest.raises(SpecError, match=r"gates\[0\]\.metric: expected one of latency_p50"):
        load_spec(path, environ={})


def test_missing_required_key(tmp_path: Path) -> None:
    path = write_spec(tmp_path, MINIMAL.format(bound="1s", extra="").replace('request_counter = "c"', ""))
    with pytest.raises(SpecError, match=r"prometheus\.request_counter: expected .*missing"):
        load_spec(path, environ={})


def test_invalid_toml_is_a_spec_error(tmp_path: Path) -> None:
    path = write_spec(tmp_path, "[service\nname=")
    with pytest.raises(SpecError, match="valid TOML"):
        load_spec(path, environ={})


@pytest.mark.parametrize(
    ("extra", "key", "hint"),
    [
        ('[report]\nchecklst = "x"', "report.checklst", "did you mean 'checklist'?"),
        ("[confidence]\nlevels = 0.9", "confidence.levels", "did you mean 'level'?"),
        ("[colour]\nred = 1", "colour", "a known key of [the spec]"),
    ],
)
def test_an_unknown_key_is_refused_with_the_nearest_known_one(tmp_path: Path, extra: str, key: str, hint: str) -> None:
    path = write_spec(tmp_path, MINIMAL.format(bound="1s", extra=extra))
    with pytest.raises(SpecError) as caught:
        load_spec(path, environ={})
    assert f"{path}: {key}: expected " in str(caught.value) and hint in str(caught.value)


def test_a_misspelt_gate_key_is_refused(tmp_path: Path) -> None:
    path = write_spec(
        tmp_path, MINIMAL.format(bound="1s", extra="").replace('max = "1s"', 'max = "1s"\nseverty = "warning"')
    )
    with pytest.raises(SpecError, match=r"gates\[0\]\.severty: expected .*did you mean 'severity'\?"):
        load_spec(path, environ={})


@pytest.mark.parametrize(("key", "value"), [("duration", "nan"), ("duration", "inf"), ("warmup", "-1.0")])
def test_non_finite_and_negative_durations_are_refused(tmp_path: Path, key: str, value: str) -> None:
    body = MINIMAL.format(bound="1s", extra="").replace(
        'locustfile = "locustfile.py"', f'locustfile = "locustfile.py"\n{key} = {value}'
    )
    with pytest.raises(SpecError, match=rf"load\.{key}: expected"):
        load_spec(write_spec(tmp_path, body), environ={})


def test_the_corrected_source_is_for_latency_only(tmp_path: Path) -> None:
    gate = '[[gates]]\nname = "{name}"\nmetric = "{metric}"\nmin = 0.5\nmax = 1\nsource = "corrected"\n'
    base = MINIMAL.format(bound="1s", extra="")
    spec = load_spec(write_spec(tmp_path, base + gate.format(name="as sent", metric="latency_p99")), environ={})
    assert spec.gates[-1].source == "corrected"
    with pytest.raises(SpecError, match=r"gates\[1\]\.source: expected 'server', 'client' or 'both' for success_rate"):
        load_spec(write_spec(tmp_path, base + gate.format(name="ok", metric="success_rate")), environ={})


@pytest.mark.parametrize(
    ("line", "key", "words"),
    [
        ("selector = 'job=\"demo\"}[1m])) or vector(1) #'", "prometheus.selector", "this stops being one at '}[1m]"),
        ('request_counter = "c or vector(1)"', "prometheus.request_counter", "a Prometheus metric name"),
        ('latency_histogram = "h{x=\\"1\\"}"', "prometheus.latency_histogram", "a Prometheus metric name"),
    ],
)
def test_a_reading_that_is_not_names_and_matchers_is_refused_at_load(tmp_path: Path, line: str, key: str,
                                                                     words: str) -> None:
    text = MINIMAL.format(bound="1s", extra="")
    replaced = {"prometheus.request_counter": 'request_counter = "c"', "prometheus.latency_histogram":
                'latency_histogram = "h"'}.get(key)
    text = text.replace(replaced, line) if replaced else MINIMAL.format(bound="1s", extra=line)
    with pytest.raises(SpecError) as caught:
        load_spec(write_spec(tmp_path, text), environ={})
    assert f"{key}: expected" in str(caught.value) and words in str(caught.value), str(caught.value)


def test_a_gate_selector_that_closes_its_braces_is_refused(tmp_path: Path) -> None:
    gate = "[[gates]]\nname = \"x\"\nmetric = \"success_rate\"\nmin = 0.5\nselector = 'job=\"a\"} or vector(1)'\n"
    with pytest.raises(SpecError, match=r"gates\[1\]\.selector: expected label matchers separated by commas"):
        load_spec(write_spec(tmp_path, MINIMAL.format(bound="1s", extra="") + gate), environ={})


@pytest.mark.parametrize(
    ("environ", "key"),
    [
        ({"ENDPOINT": "http://127.0.0.1:99999"}, "ENDPOINT (overrides target.url)"),
        ({"ENDPOINT": "http://[::1"}, "ENDPOINT (overrides target.url)"),
        ({"PROMETHEUS_URL": "ftp://prom:9090"}, "PROMETHEUS_URL (overrides prometheus.url)"),
        ({"PROMETHEUS_URL": "http://bob:pa/ss?w#rd@prom:99999"}, "PROMETHEUS_URL (overrides prometheus.url)"),
    ],
)
def test_a_url_that_cannot_be_reached_is_one_line_naming_its_source(tmp_path: Path, environ: dict, key: str) -> None:
    with pytest.raises(SpecError) as caught:
        load_spec(write_spec(tmp_path, MINIMAL.format(bound="1s", extra="")), environ=environ)
    message = str(caught.value)
    assert f"{key}: expected an http:// or https:// URL with a host and a port in 1-65535" in message
    assert "pa/ss" not in message and "\n" not in message  # a password is never shown


def test_a_spec_that_is_not_utf8_or_nests_too_deep_is_one_line(tmp_path: Path) -> None:
    path = write_spec(tmp_path, "")
    path.write_bytes(b'[service]\nname = "caf\xe9"\n')
    with pytest.raises(SpecError, match=r"\(encoding\): expected UTF-8 text \(byte 21 is not\)"):
        load_spec(path, environ={})
    path.write_text("a = " + "[" * 100_000 + "]" * 100_000)
    with pytest.raises(SpecError, match=r"\(syntax\): expected "):
        load_spec(path, environ={})


@pytest.mark.parametrize(("line", "key"), [('name = "../../evil"', "service.name"), ('name = "/abs"', "service.name"),
                                            ('version = ".."', "service.version")])
def test_a_service_name_or_version_that_leaves_its_folder_is_refused(tmp_path: Path, line: str, key: str) -> None:
    text = MINIMAL.format(bound="1s", extra="").replace('name = "svc"', f'name = "svc"\n{line}' if "version" in line
                                                        else line)
    with pytest.raises(SpecError, match=rf"{key}: expected letters, digits"):
        load_spec(write_spec(tmp_path, text), environ={})
