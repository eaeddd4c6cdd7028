"""Artifacts as contracts: atomic writes, schema versions checked, one-line errors naming file and key."""

import json
from pathlib import Path

import pytest

from validator import artifacts
from validator.artifacts import ArtifactError


def test_a_write_replaces_the_file_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "verdict.json"
    artifacts.write_json(path, {"a": 1})
    artifacts.write_json(path, {"b": 2})
    assert json.loads(path.read_text()) == {"b": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["verdict.json"]


def test_a_written_file_gets_a_plain_writes_permissions_not_the_temporarys(tmp_path: Path) -> None:
    fresh = artifacts.write_text(tmp_path / "report.md", "x\n")
    assert fresh.stat().st_mode & 0o777 == 0o666 & ~artifacts.UMASK
    kept = tmp_path / "baseline.json"
    kept.write_text("{}")
    kept.chmod(0o640)
    assert artifacts.write_text(kept, "{}\n").stat().st_mode & 0o777 == 0o640


def test_a_failed_write_keeps_the_previous_file_and_removes_its_temporary(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    artifacts.write_json(path, {"kept": True})
    with pytest.raises(TypeError):
        artifacts.write_json(path, {"unserialisable": object()})
    assert json.loads(path.read_text()) == {"kept": True}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ('{"schema_version": 1, "prometheus_url": "x"', "(syntax)", "valid JSON"),
        ("[]", "(root)", "a JSON object"),
        ('{"prometheus_url": "x"}', "schema_version", "1, got None"),
        ('{"schema_version": 9}', "schema_version", "written by a newer slagate"),
        (
            '{"schema_version": 1, "prometheus_url": 5, "window": {"start": 0, "end": 1, "seconds": 1},'
            ' "could_not_evaluate": null, "measurements": {}, "queries": []}',
            "prometheus_url",
            "5 is not of type 'string'",
        ),
    ],
)
def test_a_bad_artifact_is_one_line_naming_file_and_key(tmp_path: Path, text: str, key: str, expected: str) -> None:
    path = tmp_path / "metrics.json"
    path.write_text(text)
    with pytest.raises(ArtifactError) as raised:
        artifacts.read_json(path, "metrics")
    message = str(raised.value)
    assert message.startswith(f"{path}: {key}: expected ") and expected in message and "\n" not in message


def test_a_missing_artifact_names_the_stage_it_comes_from(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="load artifact of an earlier stage"):
        artifacts.read_json(tmp_path / "load.json", "load")


def test_every_shipped_schema_is_a_valid_json_schema() -> None:
    for kind in artifacts.SCHEMA_VERSIONS:
        document = artifacts.schema(kind)
        artifacts.jsonschema.validators.validator_for(document).check_schema(document)
        assert document["properties"]["schema_version"] == {"const": artifacts.SCHEMA_VERSIONS[kind]}
