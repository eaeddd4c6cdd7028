"""The baseline file: compact count rows, the reviewable layout, migration of schema 1 and 2, consistency checks."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT
from validator import artifacts, compact
from validator.baseline.file import baseline_document, load_baseline, pool_runs, write_baseline
from validator.baseline.provenance import host_class, portable_path, portable_url
from validator.errors import UsageError
from validator.evidence import Measurement, ProportionEvidence, QuantileEvidence, RateEvidence

FIXTURES = ROOT / "tests/fixtures/baselines"
BOUNDS = np.append(0.001 * 1.05 ** np.arange(120), math.inf)


def run(rng: np.random.Generator, windows: int = 25, rate: int = 800) -> dict[str, Measurement]:
    """One run as the pipeline measures it: per-window Prometheus bucket counts, success rate and throughput."""
    latencies = rng.lognormal(math.log(0.02), 0.5, (windows, rate))
    rows = np.stack([np.bincount(np.searchsorted(BOUNDS, row), minlength=BOUNDS.size) for row in latencies])
    matrix = np.cumsum(rows, axis=1).astype(float)
    pooled = tuple(matrix.sum(axis=0))
    found = {
        name: Measurement(name, "test", QuantileEvidence(q, tuple(BOUNDS), pooled, (matrix,)))
        for name, q in (("latency_p50", 0.5), ("latency_p95", 0.95), ("latency_p99", 0.99))
    }
    found["success_rate"] = Measurement("success_rate", "test", ProportionEvidence(windows * rate - 3, windows * rate))
    found["throughput"] = Measurement("throughput", "test", RateEvidence(windows * rate, windows))
    return found


def recorded(tmp_path: Path, seed: int = 1, runs: int = 3, windows: int = 25) -> Path:
    rng = np.random.default_rng(seed)
    measurements = pool_runs([run(rng, windows) for _ in range(runs)])
    document = baseline_document("demo", "1.0.0", measurements, 0.95, {"run_ids": [f"r{i}" for i in range(runs)]})
    return write_baseline(document, tmp_path, overwrite=True)


@pytest.mark.parametrize(
    "counts",
    [[0, 0, 3, 0, 0, 0, 1, 2, 0, 5], [7], [0, 0, 0], [1.5, 0, 0, 2.25], [4, 0, 1]],
)
def test_a_count_row_round_trips(counts: list[float]) -> None:
    row = compact.encode_row(np.array(counts, dtype=float))
    assert compact.decode_row(row, len(counts)).tolist() == [float(c) for c in counts]
    assert json.loads(json.dumps(row)) == row  # plain JSON numbers, whole counts as integers


def test_a_count_row_marks_runs_of_empty_buckets() -> None:
    assert compact.encode_row(np.array([0, 0, 3, 0, 0, 0, 1, 2, 0, 5])) == [2, 3, -3, 1, 2, 0, 5]


@pytest.mark.parametrize("row", [[-1, 2], [0, 1.5, -0.5], [0, "x"], [3, 1, 1]])
def test_a_malformed_count_row_is_refused(row: list) -> None:
    with pytest.raises(ValueError):
        compact.decode_row(row, 4)


def test_the_file_is_summary_first_one_line_per_window_and_small(tmp_path: Path) -> None:
    path = recorded(tmp_path)
    lines = path.read_text().splitlines()
    starts = {key: next(i for i, line in enumerate(lines) if line.startswith(f' "{key}"')) for key in
              ("provenance", "load_profile", "metrics", "evidence", "histograms")}  # fmt: skip
    assert starts["provenance"] < starts["metrics"] < starts["evidence"] < starts["histograms"]
    assert sum(line.strip().startswith("[") for line in lines) >= 3 * 25  # one line per window
    assert len(lines) < 250 and path.stat().st_size < 60_000
    assert "0.020000000000000004" not in path.read_text()


def test_the_shipped_demo_baselines_meet_the_budget_and_validate() -> None:
    for path in sorted((ROOT / "baselines/demo").glob("*.json")):
        text = path.read_text()
        assert len(text.encode()) <= 60_000 and len(text.splitlines()) <= 600, path
        assert "/work/" not in text and "@" not in json.loads(text)["provenance"]["prometheus_url"]
        loaded = load_baseline(path)
        assert loaded.summary["latency_p99"]["runs"] == 3
        assert loaded.load_profile["locustfile"] == "loadtests/locustfile.py"


def test_re_recording_the_same_build_changes_the_summary_on_the_first_screen(tmp_path: Path) -> None:
    first = recorded(tmp_path / "a", seed=1).read_text().splitlines()
    second = recorded(tmp_path / "b", seed=2).read_text().splitlines()
    changed = [i for i, (a, b) in enumerate(zip(first, second, strict=False)) if a != b]
    assert changed and changed[0] < 40  # the estimates, not the counts, lead the diff


def test_a_long_run_keeps_at_most_300_windows(tmp_path: Path) -> None:
    path = recorded(tmp_path, runs=2, windows=700)
    document = json.loads(path.read_text())
    run_entries = document["histograms"]["latency"]["runs"]
    assert [len(entry["windows"]) for entry in run_entries] == [234, 234] and run_entries[0]["merged"] == 3
    loaded = load_baseline(path).measurements["latency_p99"].evidence
    assert loaded.windows[0][:, -1].sum() == 700 * 800  # every request kept


@pytest.mark.parametrize("schema", [1, 2])
def test_older_schemas_are_migrated_on_read(schema: int) -> None:
    path = FIXTURES / f"schema-{schema}.json"
    original = json.loads(path.read_text())
    loaded = load_baseline(path)
    assert loaded.provenance["migrated_from"] == schema
    locustfile = loaded.load_profile["locustfile"]
    assert locustfile.endswith("locustfile.py") and not locustfile.startswith("/")  # no machine's absolute path
    for name, entry in original["metrics"].items():
        evidence = loaded.measurements[name].evidence
        assert evidence.estimate() == pytest.approx(entry["estimate"], rel=1e-6)
    p99 = loaded.measurements["latency_p99"]
    assert (len(p99.evidence.windows), p99.run_noise is not None) == ((3, True) if schema == 2 else (0, False))


def test_a_migrated_file_validates_against_the_current_schema() -> None:
    from validator.baseline.file import read_document

    document = read_document(FIXTURES / "schema-1.json")
    artifacts.validate(document, "baseline")
    assert document["schema_version"] == artifacts.SCHEMA_VERSIONS["baseline"] == 3


def damaged(tmp_path: Path, change) -> Path:
    path = recorded(tmp_path)
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda d: d["metrics"]["latency_p99"].update(estimate=0.5), "metrics.latency_p99.estimate"),
        (lambda d: d["evidence"]["latency_p95"].update(histogram="nope"), "evidence.latency_p95.histogram"),
        (lambda d: d["metrics"]["throughput"].update(runs=2), "metrics.throughput.runs"),
        (lambda d: d["histograms"]["latency"]["runs"][0].update(windows=[]), "evidence.latency_p50 windows"),
        (lambda d: d["histograms"]["latency"]["runs"][1]["windows"][0].extend([-500, 3]), "histograms"),
        (lambda d: d["metrics"].pop("success_rate"), "metrics.success_rate"),
        (lambda d: d["provenance"].update(window={"start": 2.0, "end": 1.0, "seconds": 1.0}), "provenance.window"),
        (lambda d: d["provenance"].update(prometheus_url="http://u:secret@prom:9090"), "provenance.prometheus_url"),
        (lambda d: d.update(schema_version=4), "schema_version"),
    ],
)
def test_an_inconsistent_file_is_one_line_naming_the_key(tmp_path: Path, change, key: str) -> None:
    path = damaged(tmp_path, change)
    with pytest.raises(UsageError) as raised:
        load_baseline(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: {key}") and "\n" not in message


def test_provenance_is_portable() -> None:
    assert portable_url("https://user:token@prom.example:9090/api?x=1#f") == "https://prom.example:9090/api"
    assert portable_path("loadtests/locustfile.py", ROOT) == "loadtests/locustfile.py"
    assert portable_path("/elsewhere/scenario.py", ROOT) == "scenario.py"
    urls = ("http://127.0.0.1:1", "http://10.1.2.3", "http://api.internal", "https://a.com")
    assert [host_class(url) for url in urls] == ["loopback", "private", "private", "public"]
