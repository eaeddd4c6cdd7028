"""The stages of a validation in order, each reading the previous stage's artifact in the run directory.

load (load.json) → measure (metrics.json) → checks + gates + verdict (verdict.json, report.md). Each
stage can be re-run alone: `slagate validate` re-measures a recorded window, `slagate report` re-judges
and re-renders. A stage that fails never deletes what an earlier stage wrote.
"""

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from validator.baseline import (
    Baseline,
    BaselineError,
    baseline_document,
    load_baseline,
    pool_runs,
    write_baseline,
)
from validator.checks import MeasurementChecks, check_runs
from validator.errors import UsageError
from validator.judgement import judge_run
from validator.load import runner as load_runner
from validator.load.progress import Progress
from validator.load.result import LOAD_FILE, LoadResult
from validator.measure import METRICS_FILE, MetricsRecord, measure, pool_records
from validator.prometheus import PrometheusSource, PrometheusUnavailable, Window
from validator.report.render import RunArtifacts, write_reports
from validator.spec import Spec, load_spec
from validator.verdict import Verdict

Notify = Callable[[str], None]  # one progress line for the user


@dataclass(frozen=True)
class Outcome:
    """What a finished stage tells the user: the verdict, its exit code, the report and any doubts."""

    run_dir: Path
    verdict: Verdict
    exit_code: int
    report: Path
    measurement_warnings: list[str]


def new_run_dir(reports_dir: Path, service: str) -> Path:
    """A fresh `reports/<run-id>/`, the run id being the UTC time and the service name; never an existing one."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    safe_service = re.sub(r"[^A-Za-z0-9._-]+", "-", service)
    reports_dir.mkdir(parents=True, exist_ok=True)
    suffix = 1
    while True:
        run_dir = reports_dir / (f"{stamp}-{safe_service}" + (f"-{suffix}" if suffix > 1 else ""))
        try:
            run_dir.mkdir()  # atomic: two runs started at once never share a folder
            return run_dir
        except FileExistsError:
            suffix += 1


def load_inputs(spec_path: Path) -> tuple[Spec, Baseline | None]:
    """The spec and the baseline it names; UsageError (one line) when either cannot be used."""
    spec = load_spec(spec_path)
    if spec.baseline_file is None:
        return spec, None
    try:
        return spec, load_baseline(spec.baseline_file)
    except BaselineError as error:
        raise UsageError(f"{error} (from {spec.path}: baseline.file)") from None


def run_validation(
    spec: Spec,
    baseline: Baseline | None,
    run_dir: Path,
    master: load_runner.MasterOptions | None,
    caution_exit_code: int,
    notify: Notify,
) -> Outcome:
    """Check Prometheus answers, run the load `load.repeat` times measuring each run, then judge and report.

    An unreachable Prometheus or a load that cannot run is recorded as could-not-evaluate (NO-GO, exit 4)
    with a report; a bad locustfile raises `load_runner.LocustfileError` before any load is sent.
    """
    unreachable = preflight(spec)
    if unreachable:
        metrics = _not_evaluated(spec, unreachable)
    else:
        try:
            metrics = _run_and_measure(spec, master, run_dir, notify)
        except load_runner.LoadError as error:  # e.g. workers never connected: NO-GO, exit 4, with a report
            metrics = _not_evaluated(spec, f"the load could not run: {error}")
    metrics.write(run_dir)
    return finish(run_dir, spec, baseline, caution_exit_code)


def validate_run(run_dir: Path, spec: Spec, baseline: Baseline | None, caution_exit_code: int) -> Outcome:
    """Re-query Prometheus for the windows recorded in the run's load.json file(s), then judge and report."""
    LoadResult.read(run_dir)  # the run must hold a load result before anything is re-measured
    records = []
    for target in repeat_dirs(run_dir) or [run_dir]:
        records.append(measure(spec, LoadResult.read(target), wait_for_scrape=False))
        if target != run_dir:
            records[-1].write(target)
    pool_records(records).write(run_dir)
    return finish(run_dir, spec, baseline, caution_exit_code)


def finish(run_dir: Path, spec: Spec, baseline: Baseline | None, caution_exit_code: int) -> Outcome:
    """Judge the run's metrics.json (and every run's load.json) and write verdict.json and report.md."""
    metrics = MetricsRecord.read(run_dir)
    checks = assess_measurement(run_dir, metrics, spec)
    judgement = judge_run(spec, metrics, baseline, checks.warnings)
    exit_code = judgement.verdict.exit_code(caution_exit_code)
    load = LoadResult.read(run_dir) if (run_dir / LOAD_FILE).exists() else None
    report = write_reports(RunArtifacts(run_dir, spec, judgement, metrics, load, baseline, exit_code, checks))
    return Outcome(run_dir, judgement.verdict, exit_code, report, checks.warnings)


def assess_measurement(run_dir: Path, metrics: MetricsRecord, spec: Spec) -> MeasurementChecks:
    """Every run's measurement checks: each run's load against that run's own server quantiles."""
    repeats = repeat_dirs(run_dir)
    if repeats:
        loads = [LoadResult.read(target) for target in repeats]
        servers = [MetricsRecord.read(target).server_quantiles() for target in repeats]
    elif (run_dir / LOAD_FILE).exists():
        loads, servers = [LoadResult.read(run_dir)], [metrics.server_quantiles()]
    else:
        loads, servers = [], []
    return check_runs(loads, servers, spec.client_server_gap)


def repeat_dirs(run_dir: Path) -> list[Path]:
    """RUN_DIR/run-<i>/ folders holding a load.json (a run with `load.repeat` > 1), in run order."""
    numbered = [p for p in run_dir.glob("run-*") if p.name[4:].isdigit() and (p / LOAD_FILE).exists()]
    return sorted(numbered, key=lambda p: int(p.name[4:]))


def record_baseline(
    run_dirs: list[Path], spec: Spec, version: str, baselines_dir: Path, overwrite: bool
) -> Path:
    """Write the figures measured in `run_dirs` (runs of one build) as baselines/<service>/<version>.json."""
    records = []
    for run_dir in run_dirs:
        metrics = MetricsRecord.read(run_dir)
        if metrics.could_not_evaluate or not any(m.evidence for m in metrics.measurements.values()):
            raise BaselineError(run_dir / METRICS_FILE, "measurements", "measured figures; the run has none to record")
        records.append(metrics)
    first, last = records[0], records[-1]
    load = LoadResult.read(run_dirs[0]) if (run_dirs[0] / LOAD_FILE).exists() else None
    provenance: dict[str, Any] = {
        "run_id": run_dirs[0].name,
        "run_ids": [run_dir.name for run_dir in run_dirs],
        "spec_file": str(spec.path),
        "prometheus_url": first.prometheus_url,
        "window": {"start": first.window.start, "end": last.window.end, "seconds": first.window.seconds},
        "load_profile": load.profile if load else None,
    }
    measurements = pool_runs([record.measurements for record in records])
    document = baseline_document(spec.service, version, measurements, spec.level, provenance)
    return write_baseline(document, baselines_dir, overwrite=overwrite)


def preflight(spec: Spec) -> str | None:
    """Why Prometheus cannot be used, checked before spending the load; None when it answers."""
    try:
        PrometheusSource(spec.prometheus).instant("preflight", "vector(1)", time.time())
    except PrometheusUnavailable as error:
        return str(error)
    except Exception as error:  # a server that answers but refuses queries is as unusable
        return f"Prometheus at {spec.prometheus.url} does not answer queries ({error})"
    return None


def _run_and_measure(
    spec: Spec, master: load_runner.MasterOptions | None, run_dir: Path, notify: Notify
) -> MetricsRecord:
    """Run the load `load.repeat` times back to back, writing each run's load.json before querying Prometheus;
    k > 1 runs go to run_dir/run-<i>/ and are judged together (runs as units); run_dir/load.json is the last's."""
    repeat = spec.load.repeat
    records = []
    for index in range(1, repeat + 1):
        target = run_dir if repeat == 1 else run_dir / f"run-{index}"
        target.mkdir(exist_ok=True)
        load = load_runner.run_load(spec.load, spec.target_url, Progress(spec.load.duration), master)
        load.write(target)
        notify(f"load {index}/{repeat} done: {LOAD_FILE} written; querying Prometheus at {spec.prometheus.url}")
        records.append(measure(spec, load))
        if repeat > 1:
            records[-1].write(target)
            load.write(run_dir)
    return pool_records(records)


def _not_evaluated(spec: Spec, why: str) -> MetricsRecord:
    now = time.time()
    return MetricsRecord(spec.prometheus.url, Window(now, now), could_not_evaluate=why)
