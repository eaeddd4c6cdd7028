"""Property tests (hypothesis): any input to a parser gives a valid value or one clean error — never a crash.

Units, the spec, baselines and the JSON artifacts are all user-facing inputs; the CLI turns the one error each
parser raises (ValueError, or a UsageError naming file and key) into exit code 2. A different exception type
would surface as a traceback, which these properties forbid.
"""

import copy
import json
import math
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from tests.unit.test_checks import closed_load
from validator.artifacts import ArtifactError
from validator.baseline.file import load_baseline
from validator.errors import UsageError
from validator.load.result import LoadResult
from validator.spec import load_spec
from validator.spec.units import parse_duration, parse_fraction, parse_number, parse_rate

EXAMPLES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["250ms", "99.5%", "500/s", "1e400", "-1s", "nan", "inf", "0", "1e-9s", "µs", " 3 m ", "5 rps"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@EXAMPLES
@given(scalars | st.lists(scalars, max_size=2))
def test_a_unit_parser_gives_a_finite_number_or_a_value_error(value: object) -> None:
    for parse in (parse_duration, parse_fraction, parse_rate, parse_number):
        try:
            number = parse(value)
        except ValueError as error:
            assert str(error) and "\n" not in str(error)
        else:
            assert isinstance(number, float) and math.isfinite(number)


SPEC = (
    (ROOT / "sla.toml")
    .read_text()
    .replace('"loadtests/', f'"{ROOT}/loadtests/')
    .replace('"checklists/', f'"{ROOT}/checklists/')
)
SPEC_LINES = [line for line in SPEC.splitlines() if "=" in line and not line.lstrip().startswith("#")]


def toml_value(value: object) -> str:
    """A TOML literal for a JSON-like scalar (strings JSON-quoted, which TOML accepts for basic strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if value is None:
        return '""'
    return json.dumps(value)


def assert_spec_or_one_line_error(path: Path, text: str) -> None:
    """`text` written to `path` loads as a spec or fails with one line that starts with the file's path."""
    path.write_text(text)
    try:
        load_spec(path, environ={})
    except UsageError as error:
        assert str(error).startswith(f"{path}: ") and "\n" not in str(error)


@EXAMPLES
@given(st.sampled_from(SPEC_LINES), scalars)
def test_any_value_for_any_spec_key_is_a_spec_or_one_line_error(tmp_path_factory, line: str, value: object) -> None:
    key = line.split("=", 1)[0]
    text = SPEC.replace(line, f"{key}= {toml_value(value)}", 1)
    assert_spec_or_one_line_error(tmp_path_factory.mktemp("spec") / "sla.toml", text)


@EXAMPLES
@given(st.text(max_size=200))
def test_any_text_as_a_spec_is_a_spec_or_one_line_error(tmp_path_factory, text: str) -> None:
    assert_spec_or_one_line_error(tmp_path_factory.mktemp("spec") / "sla.toml", text)


BASELINE = json.loads((ROOT / "baselines/demo/1.0.0.json").read_text())


def mutated(document: dict, path: list[str], value: object) -> dict:
    """A copy of `document` with the entry at `path` (as far as it exists) replaced by `value`."""
    copied = copy.deepcopy(document)
    node = copied
    for key in path[:-1]:
        child = node.get(key) if isinstance(node, dict) else None
        if not isinstance(child, dict):
            break
        node = child
    if isinstance(node, dict) and node:
        target = path[-1] if path[-1] in node else sorted(node)[len(path) % len(node)]
        node[target] = value
    return copied


def baseline_paths(document: dict) -> list[list[str]]:
    paths: list[list[str]] = []

    def walk(node: object, prefix: list[str]) -> None:
        if isinstance(node, dict) and len(prefix) < 4:
            for key, child in node.items():
                paths.append([*prefix, key])
                walk(child, [*prefix, key])

    walk(document, [])
    return paths


@EXAMPLES
@given(st.sampled_from(baseline_paths(BASELINE)), json_values)
def test_a_damaged_baseline_loads_or_is_one_line_error(tmp_path_factory, path: list[str], value: object) -> None:
    file = tmp_path_factory.mktemp("baseline") / "1.0.0.json"
    file.write_text(json.dumps(mutated(BASELINE, path, value)))
    try:
        load_baseline(file)
    except UsageError as error:
        assert str(error).startswith(f"{file}: ") and "\n" not in str(error)


LOAD = closed_load(rate=100).to_dict()


@EXAMPLES
@given(st.sampled_from(baseline_paths(LOAD)), json_values)
def test_a_damaged_load_json_reads_or_is_one_line_error(tmp_path_factory, path: list[str], value: object) -> None:
    folder = tmp_path_factory.mktemp("run")
    (folder / "load.json").write_text(json.dumps(mutated(LOAD, path, value)))
    try:
        LoadResult.read(folder)
    except ArtifactError as error:
        assert str(error).startswith(f"{folder / 'load.json'}: ") and "\n" not in str(error)


@EXAMPLES
@given(st.binary(max_size=300))
def test_any_bytes_as_an_artifact_are_one_line_error(tmp_path_factory, data: bytes) -> None:
    folder: Path = tmp_path_factory.mktemp("run")
    (folder / "load.json").write_bytes(data)
    try:
        LoadResult.read(folder)
    except ArtifactError as error:
        assert "\n" not in str(error)
