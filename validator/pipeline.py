"""The stages of a validation in order, each reading the previous stage's artifact in the run directory.

load (load.json) → measure (metrics.json) → checks + gates + verdict (verdict.json, report.md). Each
stage can be re-run alone: `slagate validate` re-measures a recorded window, `slagate report` re-judges
and re-renders. A stage that fails never deletes what an earlier stage wrote.
"""

import dataclasses
import importlib
import re
import socket
import time
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from validator import interrupt
from validator.artifacts import WriteFailed
from validator.baseline import provenance as baseline_provenance
from validator.baseline.file import (
    Baseline,
    BaselineError,
    baseline_document,
    load_baseline,
    pool_runs,
    write_baseline,
)
from validator.baseline.store import resolve
from validator.errors import NotRemeasured, UsageError
from validator.judge import looks
from validator.judge.analysis import LookStep
from validator.judge.baseline_compare import Calibration, calibrate, comparability
from validator.judge.changes import FEWEST_RUNS, history_changes
from validator.judge.judgement import Judgement, judge_run
from validator.judge.observations import Observation, observe
from validator.judge.run import RunArtifacts
from validator.judge.verdict import ExitCode, Verdict
from validator.load import runner as load_runner
from validator.load.locustfile import user_classes_from
from validator.load.progress import Progress
from validator.load.result import LOAD_FILE, LoadResult
from validator.measure.checks import MeasurementChecks, check_runs
from validator.measure.reconciliation import route_names_note
from validator.measure.record import (
    METRICS_FILE,
    MetricsRecord,
    interruption,
    measure,
    missing_client_gates,
    pool_records,
    with_client_figures,
)
from validator.measure.scope_checks import scope_findings
from validator.prometheus import PrometheusSource, PrometheusUnavailable, QueryFailed, Window
from validator.prometheus.reading import Reading, read_service
from validator.report import history
from validator.report.checklist import check_template
from validator.report.render import checklist_file, publish, withdraw_reports, write_reports
from validator.spec import Spec, load_spec
from validator.spec.baseline import is_reference
from validator.spec.reader import PATH_NAME
from validator.timing import Phase, Phases

Notify = Callable[[str], None]  # one progress line for the user


@dataclasses.dataclass(frozen=True)
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
    suffix = 1
    while True:
        run_dir = reports_dir / (f"{stamp}-{safe_service}" + (f"-{suffix}" if suffix > 1 else ""))
        try:
            reports_dir.mkdir(parents=True, exist_ok=True)
            run_dir.mkdir()  # atomic: two runs started at once never share a folder
            return run_dir
        except FileExistsError:
            suffix += 1
        except OSError as error:
            raise WriteFailed(run_dir, error) from None


def load_inputs(
    spec_path: Path, baseline: str | None = None, origin: str = "--baseline"
) -> tuple[Spec, Baseline | None]:
    """The spec and the baseline it names, or `baseline` (a path, SERVICE@VERSION or latest, given as `origin`:
    --baseline, or a canary controller's metadata) instead; UsageError (one line) when either cannot be used."""
    spec = load_spec(spec_path)
    if spec.checklist is not None:
        check_template(spec.checklist)  # a broken template is refused before the load, not after it
    load_reference(spec)  # a pinned reference that cannot be used is refused before the load, not after it
    selector = baseline or spec.baseline.file
    if selector is None:
        return spec, None
    origin = origin if baseline else f"{spec.path}: baseline.file"
    named = spec.baseline_file if not baseline else None
    return spec, _baseline_of(spec, named or selector, origin)


def load_reference(spec: Spec) -> Baseline | None:
    """The pinned reference baseline `max_drift` compares with (`[baseline] reference`: a version of the spec's
    service, SERVICE@VERSION or a file), None when the spec names none."""
    reference = spec.baseline.reference
    if reference is None:
        return None
    bare_version = PATH_NAME.match(reference) is not None and not reference.endswith(".json")
    selector = f"{spec.service}@{reference}" if bare_version else reference
    named = None if is_reference(selector) else spec.baseline.base_dir / selector
    return _baseline_of(spec, named or selector, f"{spec.path}: baseline.reference")


def _baseline_of(spec: Spec, selector: Path | str, origin: str) -> Baseline:
    """The baseline a path or selector names, of the spec's service (unless allow_foreign_baseline)."""
    try:
        path = selector if isinstance(selector, Path) else resolve(selector, spec.baseline, spec.service)
        loaded = load_baseline(path)
    except UsageError as error:
        raise UsageError(f"{error} (from {origin})") from None
    if loaded.service != spec.service and not spec.baseline.allow_foreign:
        raise UsageError(f"{loaded.path}: service: expected {spec.service!r} (the spec's service), got "
                         f"{loaded.service!r}; a baseline of another service is used only with "
                         f"[baseline] allow_foreign_baseline = true (from {origin})")
    return loaded


def run_validation(
    spec: Spec,
    baseline: Baseline | None,
    run_dir: Path,
    master: load_runner.MasterOptions | None,
    caution_exit_code: int,
    notify: Notify,
    phases: Phases | None = None,
) -> Outcome:
    """Check Prometheus answers, run the load `load.repeat` times measuring each run, then judge and report; each
    part timed in `phases`.

    An unreachable Prometheus or a load that cannot run is recorded as could-not-evaluate (NO-GO, exit 4)
    with a report; a bad locustfile raises `load_runner.LocustfileError` before any load is sent.
    """
    phases = phases or Phases()
    try:
        with phases.phase(Phase.PREFLIGHT):
            user_classes_from(str(spec.load.locustfile))  # a bad locustfile is exit 2 before anything runs
            unreachable = preflight(spec) or target_preflight(spec.target_url)
    except UsageError:
        run_dir.rmdir()  # nothing ran: no empty run folder is left behind
        raise
    if unreachable:
        metrics = _not_evaluated(spec, unreachable)
    else:
        try:
            metrics = _run_and_measure(spec, master, run_dir, notify, phases, baseline)
        except load_runner.LoadError as error:  # e.g. workers never connected: NO-GO, exit 4, with a report
            metrics = _not_evaluated(spec, f"the load could not run: {error}")
    with phases.phase(Phase.WRITING):
        metrics.write(run_dir)
    return finish(run_dir, spec, baseline, caution_exit_code, phases)


def validate_run(
    run_dir: Path, spec: Spec, baseline: Baseline | None, caution_exit_code: int, phases: Phases | None = None
) -> Outcome:
    """Re-query Prometheus for the windows recorded in the run's load.json file(s), then judge and report; each
    part timed in `phases`.

    With Prometheus unusable, a run that already holds a measurement is left untouched (`NotRemeasured`)."""
    phases = phases or Phases()
    with phases.phase(Phase.PREFLIGHT):
        LoadResult.read(run_dir)  # the run must hold a load result before anything is re-measured
        unreachable = preflight(spec)
    if unreachable and _holds_measurement(run_dir):
        raise NotRemeasured(f"{unreachable}; {run_dir} is unchanged: its earlier measurement and report stand")
    if unreachable:
        _not_evaluated(spec, unreachable).write(run_dir)
        return finish(run_dir, spec, baseline, caution_exit_code, phases)
    records = []
    for target in repeat_dirs(run_dir) or [run_dir]:
        with phases.phase(Phase.QUERIES):
            records.append(measure(spec, LoadResult.read(target), wait_for_scrape=False))
        if target != run_dir:
            with phases.phase(Phase.WRITING):
                records[-1].write(target)
    with phases.phase(Phase.WRITING):
        pool_records(records).write(run_dir)
    return finish(run_dir, spec, baseline, caution_exit_code, phases)


def finish(
    run_dir: Path, spec: Spec, baseline: Baseline | None, caution_exit_code: int, phases: Phases | None = None
) -> Outcome:
    """Judge the run's metrics.json (and every run's load.json) and write verdict.json and report.md; the judging,
    the charts and the writing timed in `phases`.

    A run stopped by a signal, now or in an earlier stage, is INCOMPLETE: never GO, exit code 5."""
    phases = phases or Phases()
    stopped = None
    while True:
        stop = interrupt.requested()
        if stop is not None:
            stopped = f"stopped by {stop.signal_name} while judging and writing the report"
        with phases.phase(Phase.JUDGING):
            judged = judged_run(run_dir, spec, baseline, caution_exit_code, stopped)
        with phases.phase(Phase.WRITING):
            verdict = judged.judgement.verdict
            try:
                written = write_reports(judged, phases)
                if verdict.incomplete is None:
                    record_history(run_dir, judged.spec, judged.judgement, baseline, judged.metrics.window.start)
            except WriteFailed as error:  # exit 4: no verdict.json, junit.xml or report.md may still say GO
                withdraw_reports(run_dir)
                error.strerror = f"{error.strerror}; the measurement stands: `slagate report {run_dir}` judges it again"
                raise
            publish(written)
        if written.checklist_failed is not None:
            raise written.checklist_failed  # exit 2 naming the template; the verdict, report and history stand
        if judged.metrics.incomplete is not None or interrupt.requested() is None:
            warnings = judged.checks.warnings if judged.checks else []
            return Outcome(run_dir, verdict, judged.exit_code, written.report, warnings)


def judged_run(
    run_dir: Path, spec: Spec, baseline: Baseline | None, caution_exit_code: int, stopped: str | None = None
) -> RunArtifacts:
    """The recorded run judged from its files (no network): the measurement's own checks, the gates (each look's
    for `repeat = "auto"`), the verdict and the observations; `stopped` marks it INCOMPLETE when a signal came
    while judging."""
    recorded = MetricsRecord.read(run_dir)
    checks = assess_measurement(run_dir, recorded, spec)
    spec = contested(spec, checks)
    metrics, records = judged_records(run_dir, spec, recorded)
    if stopped is not None and metrics.incomplete is None:
        metrics = dataclasses.replace(metrics, incomplete=stopped)
    load = LoadResult.read(run_dir) if (run_dir / LOAD_FILE).exists() else None
    loads = tuple(LoadResult.read(part) for part in repeat_dirs(run_dir)) or ((load,) if load else ())
    comparable = comparability(load.profile if load else None, baseline, spec.baseline, spec.service)
    reference = load_reference(spec)
    if spec.load.auto_repeat:
        judgement = looks.judge_looks(spec, metrics, records or [metrics], baseline, checks.warnings, comparable,
                                      reference)
    else:
        judgement = judge_run(spec, metrics, baseline, checks.warnings, comparable, reference)
    observations = (*observe(judgement, metrics, loads, baseline, checks),
                    *new_levels(run_dir, spec, judgement, baseline, metrics.window.start))
    exit_code = judgement.verdict.exit_code(caution_exit_code)
    return RunArtifacts(run_dir, spec, judgement, metrics, load, baseline, exit_code, checks, comparable, loads,
                        observations, reference)


RECENT_RUNS = 3  # a new level starting this many runs back or fewer is said in the run's report


def new_levels(
    run_dir: Path, spec: Spec, judgement: Judgement, baseline: Baseline | None, measured_at: float
) -> list[Observation]:
    """The gates whose figure, with this run added to the service's history (reports/history.jsonl), sits at a
    new level that started within the last RECENT_RUNS runs: a change point across releases that a per-release
    baseline does not show."""
    try:
        read = history.read(run_dir.parent / history.HISTORY_FILE, spec.service)
    except OSError:  # an unreadable history costs this observation, never the report
        return []
    entries = [entry for entry in read.entries if entry["run_id"] != run_dir.name]
    entries.append(history.run_entry(run_dir, spec, judgement, baseline, measured_at))
    found = []
    results = {result.gate.name: result for result in judgement.results}
    for change in history_changes(entries):
        point, in_a_row = change.point, len(entries) - change.point.index
        if in_a_row > RECENT_RUNS:
            continue
        before = entries[point.index - point.before.runs:point.index]
        versions = before[0]["version"] if len(before) == 1 else f"{before[0]['version']}–{before[-1]['version']}"
        result = results.get(change.gate)
        figures = {"gate": change.gate, "unit": change.unit, "point": point, "in_a_row": in_a_row,
                   "versions": versions, "against_baseline": result.change if result else None,
                   "baseline": baseline.version if baseline else None}
        found.append(Observation("new_level", figures, f"{history.HISTORY_FILE} with this run"))
    return found


def contested(spec: Spec, checks: MeasurementChecks) -> Spec:
    """The spec with each success-rate gate that judges the server's figure alone judged on both sides when the
    client's failures contradict the server's error count (`errors_contested`), so the failures the client saw
    are judged, not only warned about."""
    if not checks.errors_contested:
        return spec
    judged = [g for g in spec.gates if g.metric.name == "success_rate" and g.source == "server" and not g.scope]
    if not judged:
        return spec
    names = ", ".join(f"'{g.name}'" for g in judged)
    checks.runs[-1].notes.append(f"success-rate gate(s) {names} judged on the client's figure too (source "
                                 '"both"): the server\'s error count is contradicted by the client\'s failures')
    gates = tuple(dataclasses.replace(g, source="both") if g in judged else g for g in spec.gates)
    return dataclasses.replace(spec, gates=gates)


def record_history(
    run_dir: Path, spec: Spec, judgement: Judgement, baseline: Baseline | None, measured_at: float
) -> None:
    """Append the judged run to REPORTS_DIR/history.jsonl (one line; a re-judged run's newer line wins)."""
    try:
        history.append(run_dir.parent, history.run_entry(run_dir, spec, judgement, baseline, measured_at))
    except OSError as error:
        raise WriteFailed(run_dir.parent / history.HISTORY_FILE, error) from None


def write_checklist_for(run_dir: Path, spec: Spec, baseline: Baseline | None) -> Path | None:
    """Judge the recorded run again (no network) and write only RUN_DIR/checklist.md; None when the spec names no
    checklist."""
    return checklist_file(judged_run(run_dir, spec, baseline, int(ExitCode.CAUTION)))


def judged_records(run_dir: Path, spec: Spec, metrics: MetricsRecord) -> tuple[MetricsRecord, list[MetricsRecord]]:
    """The run's `metrics` (as read from its metrics.json) and, for `repeat = "auto"` (whose looks judge the runs
    one by one), each repeated run's, with the client figures a gate asks for but the measurement lacks (a gate
    switched to source "client" or "both" since) taken from the runs' load.json."""
    repeats = repeat_dirs(run_dir)
    records = [MetricsRecord.read(target) for target in repeats] if spec.load.auto_repeat else []
    missing = missing_client_gates(metrics, spec)
    if missing:
        loads = [LoadResult.read(target) for target in repeats or [run_dir] if (target / LOAD_FILE).exists()]
        records = [with_client_figures(record, [load], missing) for record, load in zip(records, loads, strict=False)]
        metrics = with_client_figures(metrics, loads, missing)
    return metrics, records


def assess_measurement(run_dir: Path, metrics: MetricsRecord, spec: Spec) -> MeasurementChecks:
    """Every run's measurement checks: each run's load against that run's own server quantiles."""
    repeats = repeat_dirs(run_dir)
    if repeats:
        loads = [LoadResult.read(target) for target in repeats]
        records = [MetricsRecord.read(target) for target in repeats]
    elif (run_dir / LOAD_FILE).exists():
        loads, records = [LoadResult.read(run_dir)], [metrics]
    else:
        loads, records = [], []
    interval = spec.prometheus.scrape_interval
    checks = check_runs(loads, [record.server_quantiles() for record in records], spec.client_server_gap,
                        [record.server_counts(interval) for record in records])
    warnings, notes = scope_findings(metrics.scope)
    names = route_names_note(metrics.routes, [name for load in loads for name in load.endpoints],
                             spec.prometheus.route_label)
    notes += [names] if names else []
    if checks.runs:  # the pooled window's scope, told once with the last run
        checks.runs[-1].warnings += warnings
        checks.runs[-1].notes += notes
    return checks


def repeat_dirs(run_dir: Path) -> list[Path]:
    """RUN_DIR/run-<i>/ folders holding a load.json (a run with `load.repeat` > 1), in run order."""
    numbered = [p for p in run_dir.glob("run-*") if p.name[4:].isdigit() and (p / LOAD_FILE).exists()]
    return sorted(numbered, key=lambda p: int(p.name[4:]))


def calibration(spec: Spec, runs: int, run_dir: Path, notify: Notify) -> list[Calibration]:
    """Run the spec's load `runs` times back to back into `run_dir` (run-<i>/ each) and the noise floor each gate
    shows across them: the tolerance a same-build run passes and the regression it then catches."""
    repeated = dataclasses.replace(spec, load=dataclasses.replace(spec.load, repeat=runs))
    run_validation(repeated, None, run_dir, None, int(ExitCode.CAUTION), notify)
    return calibrate([MetricsRecord.read(part).measurements for part in repeat_dirs(run_dir)], spec)


def record_baseline(
    run_dirs: list[Path], spec: Spec, version: str, baselines_dir: Path, overwrite: bool
) -> Path:
    """Write the figures measured in `run_dirs` (runs of one build) as baselines/<service>/<version>.json."""
    return write_baseline(recorded_document(run_dirs, spec, version), baselines_dir, overwrite=overwrite)


def recorded_document(run_dirs: list[Path], spec: Spec, version: str) -> dict[str, Any]:
    """The baseline document of `run_dirs`, each `load.repeat` run (run-<i>/) taken as a run of its own."""
    parts = [(run_dir, part) for run_dir in run_dirs for part in (repeat_dirs(run_dir) or [run_dir])]
    records = []
    for _, part in parts:
        metrics = MetricsRecord.read(part)
        if metrics.could_not_evaluate or not any(m.evidence for m in metrics.measurements.values()):
            raise BaselineError(part / METRICS_FILE, "measurements", "measured figures; the run has none to record")
        records.append(metrics)
    first, last = records[0], records[-1]
    load = LoadResult.read(parts[0][1]) if (parts[0][1] / LOAD_FILE).exists() else None
    run_ids = [run.name if part == run else f"{run.name}/{part.name}" for run, part in parts]
    window = {"start": first.window.start, "end": last.window.end, "seconds": first.window.seconds}
    target = load.profile.get("target") if load else spec.target_url
    provenance = baseline_provenance.provenance(spec.path, run_ids, first.prometheus_url, window, target)
    profile = baseline_provenance.portable_profile(load.profile, spec.path.parent) if load else None
    measurements = pool_runs([record.measurements for record in records])
    return baseline_document(spec.service, version, measurements, spec.level, provenance, profile)


PREFLIGHT_RETRY_S = 10.0  # a Prometheus that does not answer within this, before any load, stops the run


def preflight(spec: Spec) -> str | None:
    """Why Prometheus cannot be used, checked before spending the load (retrying at most PREFLIGHT_RETRY_S, so a
    dead server is reported in seconds); None when it answers."""
    retry_deadline = min(spec.prometheus.retry_deadline, PREFLIGHT_RETRY_S)
    source = PrometheusSource(dataclasses.replace(spec.prometheus, retry_deadline=retry_deadline))  # UsageError: exit 2
    try:
        now = time.time()
        source.instant("preflight", "vector(1)", now)
        source.check_spec(spec.gates, now)  # an invalid selector or regex: UsageError quoting Prometheus
        refuted = read_service(source.client, source.spec, spec.gates, now).problems
    except PrometheusUnavailable as error:
        return str(error)
    except QueryFailed as error:  # a server that answers but refuses queries is as unusable
        return f"Prometheus at {spec.prometheus.shown_url} does not answer queries ({error})"
    if refuted:  # the spec's reading of the service is wrong: one line, exit 2, no load
        raise UsageError(f"{spec.prometheus.spec_file}: {refuted[0].key}: {refuted[0].text}")
    return None


def check_reading(spec: Spec) -> Reading:
    """What Prometheus has for each claim the spec makes about the service (`slagate check`); PrometheusUnavailable
    when it cannot be asked."""
    source = PrometheusSource(spec.prometheus)
    now = time.time()
    source.check_spec(spec.gates, now)
    return read_service(source.client, source.spec, spec.gates, now)


def target_preflight(url: str, timeout: float = 3.0) -> str | None:
    """Why the target cannot be load-tested (nothing accepts a connection at its address); None when it can."""
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=timeout):
            return None
    except OSError as error:
        return f"the target at {parts.scheme}://{parts.hostname}:{port} is unreachable ({error.strerror or error})"


def _run_and_measure(
    spec: Spec,
    master: load_runner.MasterOptions | None,
    run_dir: Path,
    notify: Notify,
    phases: Phases,
    baseline: Baseline | None = None,
) -> MetricsRecord:
    """Run the load `load.repeat` times back to back, writing each run's load.json before querying Prometheus;
    k > 1 runs go to run_dir/run-<i>/ and are judged together (runs as units); run_dir/load.json is the last's.
    With `repeat = "auto"` another run starts only while the looks leave a bound undecided (`looks.next_step`).
    A stop request ends the repeats: what was measured is written, Prometheus is not queried for a stopped load."""
    repeat = spec.load.repeat
    reference = load_reference(spec) if spec.load.auto_repeat else None
    records = []
    steps: list[LookStep] = []
    for index in range(1, repeat + 1):
        target = run_dir if repeat == 1 else run_dir / f"run-{index}"
        target.mkdir(exist_ok=True)
        started, started_at = time.monotonic(), time.time()
        load = load_runner.run_load(spec.load, spec.target_url, Progress(spec.load.duration), master)
        _time_load(phases, load, started, started_at, spec.load.duration)
        with phases.phase(Phase.WRITING):
            load.write(target)
            if repeat > 1:
                load.write(run_dir)
        if load.interrupted is not None:
            window = Window(load.window_start, load.window_end)
            records.append(MetricsRecord(spec.prometheus.shown_url, window, incomplete=interruption(load)))
            notify(f"stopped by {load.interrupted['signal']}: {LOAD_FILE} written with what was measured")
            break
        notify(f"load {index}/{repeat} done: {LOAD_FILE} written; querying Prometheus at {spec.prometheus.shown_url}")
        with phases.phase(Phase.REPORT_IMPORTS):
            _import_for_the_report(run_dir, spec.service)
        with phases.phase(Phase.QUERIES):
            records.append(measure(spec, load, phases=phases))
        stop = interrupt.requested()
        if stop is not None and records[-1].incomplete is None:
            where = f"stopped by {stop.signal_name} during the Prometheus queries of run {index}"
            records[-1] = dataclasses.replace(records[-1], incomplete=where)
        if repeat > 1:
            with phases.phase(Phase.WRITING):
                records[-1].write(target)
        if stop is not None:
            break
        if spec.load.auto_repeat:
            with phases.phase(Phase.JUDGING):
                steps.append(looks.next_step(spec, records, baseline, reference))
            if steps[-1].stop:
                break
    looked = [{"runs": s.runs, "level": s.level, "stop": s.stop, "why": s.why} for s in steps]
    return dataclasses.replace(pool_records(records), looks=looked)


def _time_load(phases: Phases, load: LoadResult, started: float, started_at: float, duration: float) -> None:
    """Split the load's seconds (from `started`, monotonic, and `started_at`, epoch, until now) into Locust's
    set-up until the load's origin, the load itself (its duration, or until the stop request) and the rest."""
    ended = time.monotonic()
    origin = min(max(started, started + load.origin - started_at), ended)
    seconds = load.interrupted["at_s"] if load.interrupted is not None else duration
    last = min(origin + max(0.0, seconds), ended)
    phases.add(Phase.LOAD_START, started, origin)
    phases.add(Phase.LOAD, origin, last)
    phases.add(Phase.LOAD_STOP, last, ended)


def _import_for_the_report(run_dir: Path, service: str) -> None:
    """Import what judging and the report will need after the load (matplotlib for the charts; ruptures, with
    scipy.stats, once the service's history holds enough runs to segment: ~0.3 s each) before waiting for
    Prometheus to scrape the window's end, so that wait absorbs most of it."""
    importlib.import_module("validator.report.charts")
    try:
        earlier = len(history.read(run_dir.parent / history.HISTORY_FILE, service).entries)
    except OSError:  # new_levels then finds nothing either
        return
    if earlier + 1 >= FEWEST_RUNS:
        importlib.import_module("ruptures")


def _holds_measurement(run_dir: Path) -> bool:
    """Whether the run folder's metrics.json holds figures measured earlier (not a could-not-evaluate record)."""
    if not (run_dir / METRICS_FILE).exists():
        return False
    return MetricsRecord.read(run_dir).could_not_evaluate is None


def _not_evaluated(spec: Spec, why: str) -> MetricsRecord:
    now = time.time()
    return MetricsRecord(spec.prometheus.shown_url, Window(now, now), could_not_evaluate=why)
