"""Choosing and comparing baselines: semantic-version order, `latest`, comparability, calibration, promotion."""

import dataclasses
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.special import ndtri

from tests.conftest import ROOT, write_spec
from tests.unit.test_baseline_format import run
from tests.unit.test_pipeline_stages import judged_run
from validator.baseline.file import load_baseline
from validator.baseline.promote import promotion_problem
from validator.baseline.store import latest, resolve, version_key, versions
from validator.cli import main
from validator.errors import InputFileError, UsageError
from validator.judge.baseline_compare import Comparability, calibrate, comparability, diff
from validator.judge.gates import Status
from validator.load.result import LoadResult
from validator.pipeline import load_inputs
from validator.spec import load_spec
from validator.spec.baseline import BaselineSpec

GATES = """
[[gates]]
name = "p99"
metric = "latency_p99"
max_regression = "15%"
[[gates]]
name = "rate"
metric = "throughput"
severity = "warning"
min = "10/s"
"""


def test_semantic_version_order_puts_pre_releases_before_their_release() -> None:
    found = ["2.10.0", "2.9.0", "2.10.0-rc1", "2.10.0-rc.2", "2.10.0-beta", "1.0.0", "nightly"]
    assert sorted(found, key=version_key) == [
        "nightly", "1.0.0", "2.9.0", "2.10.0-beta", "2.10.0-rc.2", "2.10.0-rc1", "2.10.0"]  # fmt: skip


def test_latest_is_the_highest_release_and_a_pre_release_only_without_one(tmp_path: Path) -> None:
    folder = tmp_path / "svc"
    folder.mkdir()
    for version in ("2.9.0", "2.10.0-rc1"):
        (folder / f"{version}.json").write_text("{}")
    assert latest(tmp_path, "svc").version == "2.9.0"  # 2.9.0 over 2.10.0-rc1
    (folder / "2.10.0.json").write_text("{}")
    assert latest(tmp_path, "svc").version == "2.10.0"
    assert [s.version for s in versions(tmp_path, "svc")] == ["2.9.0", "2.10.0-rc1", "2.10.0"]
    only_pre = tmp_path / "pre"
    only_pre.mkdir()
    (only_pre / "3.0.0-rc2.json").write_text("{}")
    assert latest(tmp_path, "pre").version == "3.0.0-rc2"


def test_selectors_resolve_to_files(tmp_path: Path) -> None:
    settings = BaselineSpec(directory=ROOT / "baselines")
    assert resolve("demo@1.0.0", settings, "x") == ROOT / "baselines/demo/1.0.0.json"
    assert resolve("latest", settings, "demo") == ROOT / "baselines/demo/1.1.0.json"
    assert resolve("demo@latest", settings, "x") == ROOT / "baselines/demo/1.1.0.json"
    assert resolve("some/file.json", settings, "demo") == Path("some/file.json")
    with pytest.raises(InputFileError, match=r"recorded: 1\.0\.0, 1\.1\.0"):
        resolve("demo@9.9.9", settings, "demo")


def test_the_spec_and_the_command_line_choose_the_baseline(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "baselines", tmp_path / "baselines")
    spec_path = write_spec(tmp_path, extra='[baseline]\nfile = "latest"\nmismatch = "refuse"\n', name="demo")
    spec, chosen = load_inputs(spec_path)
    assert spec.baseline.mismatch == "refuse" and chosen.version == "1.1.0"
    _, chosen = load_inputs(spec_path, "demo@1.0.0")
    assert chosen.version == "1.0.0"
    with pytest.raises(UsageError, match="--baseline"):
        load_inputs(spec_path, "demo@0.1.0")


def profile(baseline, **changes) -> dict:
    locustfile = str(ROOT / "loadtests/locustfile.py")
    return {**baseline.load_profile, "target": "http://127.0.0.1:9", "locustfile": locustfile, **changes}


def test_a_different_load_caps_relative_gates_at_warn_or_refuses_them(tmp_path: Path) -> None:
    baseline = load_baseline(ROOT / "baselines/demo/1.0.0.json")
    same = comparability(profile(baseline), baseline, BaselineSpec(), baseline.service)
    assert same.differences == ()
    differs = comparability(profile(baseline, users=40, target="https://api.example.com"), baseline, BaselineSpec(),
                            baseline.service)
    assert [d.field for d in differs.differences] == ["users", "target host class"]
    candidate = load_baseline(ROOT / "baselines/demo/1.1.0.json")
    results = diff(baseline, candidate, load_spec(write_spec(tmp_path, GATES, name="demo")))
    assert results[0].status == Status.PASS
    capped = differs.applied(results)
    assert capped[0].status == Status.WARN and "users 40 vs 20" in capped[0].reason
    assert capped[2] == results[2]  # an absolute-only gate is untouched
    refused = Comparability(differs.differences, "refuse").applied(results)
    assert refused[0].status == Status.NO_DATA
    unmeasured = dataclasses.replace(results[0], status=Status.NO_DATA, reason="no data", checks=(), change=None)
    assert differs.applied([unmeasured]) == [unmeasured]  # a gate that was never measured stays NO_DATA


def test_calibration_is_the_normal_model_of_the_runs_spread(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    runs = [run(rng, windows=25, rate=2000) for _ in range(5)]
    for found, scale in zip(runs, (0.97, 1.0, 1.03, 0.99, 1.01), strict=True):  # ±3 % between runs
        evidence = found["latency_p99"].evidence
        bounds = tuple(b * scale for b in evidence.upper_bounds[:-1]) + (math.inf,)
        moved = dataclasses.replace(evidence, upper_bounds=bounds)
        found["latency_p99"] = dataclasses.replace(found["latency_p99"], evidence=moved)
    spec = load_spec(write_spec(tmp_path, GATES, name="demo"))
    (row,) = [r for r in calibrate(runs, spec) if r.gate.name == "p99"]
    z = ndtri(0.95) + ndtri(0.95)
    assert row.standard_error == pytest.approx(row.run_sd * math.sqrt(1 + 1 / 5))
    assert row.tolerance == pytest.approx(math.expm1(z * row.standard_error))
    assert row.caught == pytest.approx(math.expm1(2 * z * row.standard_error))
    assert 0.015 < row.run_sd < 0.06  # the ±3 % the runs were given, plus sampling


def verdict_folder(tmp_path: Path, name: str, **fields) -> Path:
    """A judged run folder (tests.unit.test_pipeline_stages) whose verdict.json then says `fields`."""
    (tmp_path / name).mkdir()
    _, document = judged_run(tmp_path / name)
    folder = tmp_path / name / "run"
    (folder / "verdict.json").write_text(json.dumps({**document, **fields}))
    return folder


def test_promotion_refuses_no_go_incomplete_and_unforced_caution(tmp_path: Path) -> None:
    assert promotion_problem(verdict_folder(tmp_path, "go", decision="GO"), force=False) is None
    assert "NO-GO" in str(promotion_problem(verdict_folder(tmp_path, "nogo", decision="NO-GO"), force=True))
    caution = verdict_folder(tmp_path, "caution", decision="CAUTION")
    assert "--force" in str(promotion_problem(caution, force=False))
    assert promotion_problem(caution, force=True) is None
    stopped = verdict_folder(tmp_path, "stopped", decision="NO-GO", incomplete="stopped by SIGINT")
    assert "stopped by SIGINT" in str(promotion_problem(stopped, force=True))


def test_a_schema_2_load_json_is_migrated_on_read(tmp_path: Path) -> None:
    shutil.copy(ROOT / "tests/fixtures/load/schema-2.json", tmp_path / "load.json")
    load = LoadResult.read(tmp_path)
    old = json.loads((ROOT / "tests/fixtures/load/schema-2.json").read_text())
    assert [w.index for w in load.timeline.windows()] == [w["index"] for w in old["timeline"]["windows"]]
    first = old["timeline"]["windows"][0]["histogram"]
    keys, counts = load.timeline.windows()[0].histogram.buckets()
    assert keys.tolist() == np.cumsum(first["key_deltas"]).tolist() and counts.tolist() == first["counts"]
    load.write(tmp_path)
    again = LoadResult.read(tmp_path)
    assert json.loads((tmp_path / "load.json").read_text())["schema_version"] == 3
    assert again.timeline.combined().total == load.timeline.combined().total


def test_a_baseline_reference_that_leaves_the_folder_is_refused(tmp_path: Path) -> None:
    for selector in ("..@8.8.8", "demo@.."):  # a reference names a service and a version, never a path
        with pytest.raises(InputFileError, match="SERVICE@VERSION, each letters, digits"):
            resolve(selector, BaselineSpec(directory=tmp_path), "demo")


def test_another_service_s_baseline_is_exit_2_unless_allowed_then_a_mismatch(tmp_path: Path) -> None:
    demo = str(ROOT / "baselines/demo/1.0.0.json")
    spec_path = write_spec(tmp_path, extra=f"[baseline]\nfile = {json.dumps(demo)}", name="orders")
    with pytest.raises(UsageError, match=r"service: expected 'orders' .* got 'demo'.*allow_foreign_baseline = true"):
        load_inputs(spec_path)
    result = CliRunner().invoke(main, ["rules", "--spec", str(spec_path), "--baseline", demo])
    assert result.exit_code == 2 and "allow_foreign_baseline" in result.output
    spec_path.write_text(spec_path.read_text().replace("[baseline]", "[baseline]\nallow_foreign_baseline = true"))
    spec, baseline = load_inputs(spec_path)
    foreign = comparability(profile(baseline), baseline, spec.baseline, spec.service)
    assert [(d.field, d.candidate, d.baseline) for d in foreign.differences] == [("service", "orders", "demo")]


def test_a_pinned_reference_is_a_version_of_the_service_refused_before_any_load_when_missing(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "baselines", tmp_path / "baselines")
    gate = '[[gates]]\nmetric = "latency_p95"\nmax_regression = "15%"\nmax_drift = "25%"\n'
    spec_path = write_spec(tmp_path, extra='[baseline]\nfile = "demo@1.1.0"\nreference = "1.0.0"', name="demo")
    spec_path.write_text(spec_path.read_text() + gate)
    spec, baseline = load_inputs(spec_path)
    from validator.pipeline import load_reference

    reference = load_reference(spec)
    assert baseline is not None and baseline.version == "1.1.0" and reference is not None
    assert reference.version == "1.0.0" and reference.path == tmp_path / "baselines/demo/1.0.0.json"
    spec_path.write_text(spec_path.read_text().replace('reference = "1.0.0"', 'reference = "0.9.0"'))
    with pytest.raises(UsageError, match=r"baseline\.reference"):
        load_inputs(spec_path)
    spec_path.write_text(spec_path.read_text().replace('reference = "0.9.0"\n', ""))
    with pytest.raises(InputFileError, match=r"gates\[1\]\.max_drift: expected baseline\.reference as well"):
        load_inputs(spec_path)
