"""The `slagate` command line: thin click commands over the pipeline stages; every rule lives elsewhere.

Exit codes: 0 GO, 3 CAUTION (--caution-exit-code may change it), 1 NO-GO, 2 usage or spec error,
4 could not evaluate (e.g. Prometheus unreachable; the verdict is then NO-GO).
"""

from validator.load import runner as load_runner  # noqa: I001  (locust's gevent patching must come first)
from validator.load import worker as load_worker

import contextlib
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from validator import __version__
from validator.baseline import (
    Baseline,
    BaselineError,
    baseline_document,
    load_baseline,
    pool_runs,
    write_baseline,
)
from validator.load.progress import Progress
from validator.load.worker import DEFAULT_MASTER_PORT
from validator.load.result import LOAD_FILE, LoadResult
from validator.load import quality as load_quality
from validator.pipeline import METRICS_FILE, Judgement, MetricsRecord, judge, measure, new_run_dir, pool_records
from validator.prometheus import PrometheusSource, PrometheusUnavailable, Window
from validator.report.render import RunArtifacts, write_reports
from validator.spec import Spec, SpecError, load_spec
from validator.verdict import ExitCode, decide

if TYPE_CHECKING:
    from validator.demo.target import DemoSettings

EXIT_CODES_HELP = """\b
Exit codes:
  0  GO          all gates PASS: standard rollout 5 → 25 → 50 → 100 %
  3  CAUTION     no critical gate failed, something is WARN/FAIL/NO_DATA: slow rollout 1 → 5 → 25 → 50 → 100 %
                 (--caution-exit-code 0 makes CAUTION pass a CI step)
  1  NO-GO       a critical gate FAILed or had NO_DATA: do not roll out
  2  usage       bad arguments, spec, baseline or locustfile (one line names the file and key)
  4  could not evaluate   e.g. Prometheus unreachable; the verdict is NO-GO
"""


class UsageFailure(click.ClickException):
    """A one-line error about the user's input, exit code 2."""

    exit_code = ExitCode.USAGE

    def show(self, file: object = None) -> None:
        click.echo(f"slagate: error: {self.message}", err=True)


def _fail(message: str, code: int = ExitCode.USAGE) -> None:
    click.echo(f"slagate: error: {message}", err=True)
    sys.exit(code)


def _progress(message: str) -> None:
    click.echo(f"slagate: {message}", err=True)


@click.group(epilog=EXIT_CODES_HELP)
@click.version_option(__version__, prog_name="slagate")
def main() -> None:
    """slagate — is this build fast and reliable enough to start a canary, and how carefully?

    It drives real load at the service with Locust, reads what the service reported to Prometheus
    over exactly that window, compares each figure with a versioned baseline using confidence
    intervals, and writes reports/<run-id>/report.md ending in GO, CAUTION or NO-GO with a rollout plan.

    \b
    Quick start (built-in demo: demo target + real Prometheus + real load):
      slagate run --demo
    Your own service:
      ENDPOINT=https://svc PROMETHEUS_URL=http://prom:9090 slagate run --spec sla.toml
    """


spec_option = click.option(
    "--spec",
    "spec_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("sla.toml"),
    show_default=True,
    help="The SLA spec (TOML). ENDPOINT and PROMETHEUS_URL in the environment override its URLs.",
)
caution_option = click.option(
    "--caution-exit-code",
    type=click.IntRange(0, 255),
    default=int(ExitCode.CAUTION),
    show_default=True,
    help="Exit code for a CAUTION verdict (0 lets a CAUTION pass a CI step).",
)


@main.command(epilog=EXIT_CODES_HELP)
@spec_option
@click.option(
    "--demo",
    is_flag=True,
    help="Start the built-in demo target and a real Prometheus on 127.0.0.1 and validate against them.",
)
@click.option(
    "--demo-set",
    multiple=True,
    metavar="KEY=VALUE",
    help="With --demo: a demo target setting, e.g. latency_multiplier=2 or error_rate=0.05 (repeatable).",
)
@click.option(
    "--reports-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("reports"),
    show_default=True,
    help="Where reports/<run-id>/ is created.",
)
@caution_option
@click.option(
    "--expect-workers",
    type=click.IntRange(1),
    default=None,
    help="Distributed load: wait for this many `slagate worker` processes (other machines) instead of "
    "starting local workers.",
)
@click.option(
    "--master-bind",
    metavar="HOST[:PORT]",
    default=None,
    help=f"Where the Locust master listens for workers (default with --expect-workers: "
    f"0.0.0.0:{DEFAULT_MASTER_PORT}; local workers: 127.0.0.1 on a free port).",
)
def run(
    spec_path: Path,
    demo: bool,
    demo_set: tuple[str, ...],
    reports_dir: Path,
    caution_exit_code: int,
    expect_workers: int | None,
    master_bind: str | None,
) -> None:
    """Run load, measure it in Prometheus, judge the gates and write the report.

    Writes reports/<run-id>/load.json, metrics.json, verdict.json and report.md, prints the verdict
    and the report's path, and exits with the verdict's exit code.
    """
    spec = _load_spec(spec_path)
    baseline = _load_baseline(spec)
    master = _master_options(expect_workers, master_bind)
    with _demo_endpoints(spec, demo, demo_set) as spec:
        run_dir = new_run_dir(reports_dir, spec.service)
        _progress(f"run {run_dir.name}: {_describe_load(spec, master)} at {spec.target_url}")
        unreachable = _preflight(spec)
        if unreachable:
            metrics, load = MetricsRecord(spec.prometheus.url, _empty_window(), could_not_evaluate=unreachable), None
        else:
            try:
                load, metrics = _run_and_measure(spec, master, run_dir)
            except load_runner.LoadError as error:  # e.g. workers never connected: NO-GO, exit 4, with a report
                why = f"the load could not run: {error}"
                metrics, load = MetricsRecord(spec.prometheus.url, _empty_window(), could_not_evaluate=why), None
        metrics.write(run_dir)
    _finish(run_dir, spec, metrics, load, baseline, caution_exit_code)


@main.command()
@click.option("--master", "master", required=True, metavar="HOST[:PORT]", help="The `slagate run` master to join.")
@click.option(
    "--locustfile",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="The scenario (default: the spec's load.locustfile); must match the master's.",
)
@spec_option
def worker(master: str, locustfile: Path | None, spec_path: Path) -> None:
    """Join a distributed load as one worker (run one per core on each load machine).

    The master is `slagate run --expect-workers N --master-bind HOST:PORT` on another machine; the
    worker generates its share of the load and ships exact histograms to it, then exits.
    """
    host, port = _host_port(master, "--master", DEFAULT_MASTER_PORT)
    if locustfile is None:
        locustfile = _load_spec(spec_path).load.locustfile
    _progress(f"worker: joining the master at {host}:{port} with {locustfile}")
    try:
        load_worker.run_worker(host, port, str(locustfile))
    except load_runner.LocustfileError as error:
        _fail(str(error))
    _progress("worker: the master ended the load")


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False, exists=True))
@spec_option
@caution_option
def validate(run_dir: Path, spec_path: Path, caution_exit_code: int) -> None:
    """Re-query Prometheus for the window recorded in RUN_DIR/load.json (each RUN_DIR/run-<i>/load.json after
    `load.repeat` > 1, pooled as in the run), then judge and report again."""
    spec = _load_spec(spec_path)
    baseline = _load_baseline(spec)
    load = _read_artifact(run_dir, LOAD_FILE, LoadResult.read)
    repeats = [run_dir / f"run-{number}" for number in _repeat_numbers(run_dir)]
    records = []
    for target in repeats or [run_dir]:
        records.append(measure(spec, _read_artifact(target, LOAD_FILE, LoadResult.read), wait_for_scrape=False))
        if repeats:
            records[-1].write(target)
    metrics = pool_records(records)
    metrics.write(run_dir)
    _finish(run_dir, spec, metrics, load, baseline, caution_exit_code)


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False, exists=True))
@spec_option
@caution_option
def report(run_dir: Path, spec_path: Path, caution_exit_code: int) -> None:
    """Judge RUN_DIR/metrics.json again (e.g. with edited gates) and re-render report.md; no network."""
    spec = _load_spec(spec_path)
    baseline = _load_baseline(spec)
    metrics = _read_artifact(run_dir, METRICS_FILE, MetricsRecord.read)
    load = LoadResult.read(run_dir) if (run_dir / LOAD_FILE).exists() else None
    _finish(run_dir, spec, metrics, load, baseline, caution_exit_code)


@main.group()
def baseline() -> None:
    """Record and inspect versioned baselines (baselines/<service>/<version>.json)."""


@baseline.command("record")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--version", "version", required=True, help="The baseline's version, e.g. the build's release (1.4.2).")
@spec_option
@click.option(
    "--baselines-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("baselines"),
    show_default=True,
    help="Root of the baseline folders.",
)
@click.option("--force", is_flag=True, help="Replace an existing baseline of the same version.")
def baseline_record(
    run_dirs: tuple[Path, ...], version: str, spec_path: Path, baselines_dir: Path, force: bool
) -> None:
    """Write the figures measured in RUN_DIRS as baselines/<service>/<VERSION>.json (review it in git).

    Give two or more runs of the same build (e.g. three `slagate run`s in a row): the baseline then
    carries their run-to-run noise, which keeps a one-run candidate's comparison honest.
    """
    spec = _load_spec(spec_path)
    records = []
    for run_dir in run_dirs:
        metrics = _read_artifact(run_dir, METRICS_FILE, MetricsRecord.read)
        if metrics.could_not_evaluate or not any(m.evidence for m in metrics.measurements.values()):
            _fail(f"{run_dir / METRICS_FILE}: measurements: expected measured figures, the run has none to record")
        records.append(metrics)
    first, last = records[0], records[-1]
    load = LoadResult.read(run_dirs[0]) if (run_dirs[0] / LOAD_FILE).exists() else None
    provenance = {
        "run_id": run_dirs[0].name,
        "run_ids": [run_dir.name for run_dir in run_dirs],
        "spec_file": str(spec.path),
        "prometheus_url": first.prometheus_url,
        "window": {"start": first.window.start, "end": last.window.end, "seconds": first.window.seconds},
        "load_profile": load.profile if load else None,
    }
    measurements = pool_runs([record.measurements for record in records])
    document = baseline_document(spec.service, version, measurements, spec.level, provenance)
    try:
        path = write_baseline(document, baselines_dir, overwrite=force)
    except BaselineError as error:
        _fail(str(error))
    click.echo(f"slagate: baseline written: {path} ({len(run_dirs)} run(s))")


def _load_spec(path: Path) -> Spec:
    try:
        return load_spec(path)
    except SpecError as error:
        _fail(str(error))
    raise AssertionError("unreachable")


def _load_baseline(spec: Spec) -> Baseline | None:
    if spec.baseline_file is None:
        return None
    try:
        return load_baseline(spec.baseline_file)
    except BaselineError as error:
        _fail(f"{error} (from {spec.path}: baseline.file)")
    raise AssertionError("unreachable")


def _read_artifact(run_dir: Path, name: str, reader):  # type: ignore[no-untyped-def]
    if not (run_dir / name).exists():
        _fail(f"{run_dir / name}: expected the artifact of an earlier stage; it does not exist")
    try:
        return reader(run_dir)
    except (KeyError, TypeError, ValueError) as error:
        _fail(f"{run_dir / name}: expected a slagate artifact ({error.__class__.__name__}: {error})")


def _preflight(spec: Spec) -> str | None:
    """Why Prometheus cannot be used, checked before spending the load; None when it answers."""
    try:
        PrometheusSource(spec.prometheus).instant("preflight", "vector(1)", time.time())
    except PrometheusUnavailable as error:
        return str(error)
    except Exception as error:  # a server that answers but refuses queries is as unusable
        return f"Prometheus at {spec.prometheus.url} does not answer queries ({error})"
    return None


def _host_port(value: str, option: str, default_port: int) -> tuple[str, int]:
    host, _, port = value.rpartition(":") if ":" in value else (value, "", str(default_port))
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageFailure(f"{option} {value}: expected HOST or HOST:PORT, e.g. 10.0.0.5:{default_port}")
    return host, int(port)


def _master_options(expect_workers: int | None, master_bind: str | None) -> load_runner.MasterOptions | None:
    """How the Locust master listens: None (spec's local workers on loopback) unless the options say otherwise."""
    if expect_workers is None and master_bind is None:
        return None
    if expect_workers is None:
        assert master_bind is not None
        host, _, port = master_bind.partition(":")
        bound = _host_port(master_bind, "--master-bind", DEFAULT_MASTER_PORT) if port else (host, None)
        return load_runner.MasterOptions(bind_host=bound[0], bind_port=bound[1])
    host, port = _host_port(master_bind or f"0.0.0.0:{DEFAULT_MASTER_PORT}", "--master-bind", DEFAULT_MASTER_PORT)
    return load_runner.MasterOptions(bind_host=host, bind_port=port, expect_workers=expect_workers)


def _describe_load(spec: Spec, master: load_runner.MasterOptions | None) -> str:
    load = spec.load
    shape = (
        f"{load.arrival_rate:g} req/s ({load.arrival}, up to {load.users} users)"
        if load.open_model
        else f"{load.users} users"
    )
    if master is not None and master.remote:
        where = f", {master.expect_workers} remote worker(s) via {master.bind_host}:{master.bind_port}"
    else:
        where = "" if load.workers == 1 and master is None else f", {load.workers} local worker process(es)"
    return f"{shape} for {load.duration:g} s{where}"


def _run_load(spec: Spec, master: load_runner.MasterOptions | None = None) -> LoadResult:
    try:
        return load_runner.run_load(spec.load, spec.target_url, Progress(spec.load.duration), master)
    except load_runner.LocustfileError as error:
        _fail(str(error))
    raise AssertionError("unreachable")


def _run_and_measure(
    spec: Spec, master: load_runner.MasterOptions | None, run_dir: Path
) -> tuple[LoadResult, MetricsRecord]:
    """Run the load `load.repeat` times back to back, measuring each run; k > 1 runs go to run_dir/run-<i>/
    and are judged together (runs as units); run_dir/load.json is then the last run's."""
    repeat = spec.load.repeat
    records = []
    for index in range(1, repeat + 1):
        target = run_dir if repeat == 1 else run_dir / f"run-{index}"
        target.mkdir(exist_ok=True)
        load = _run_load(spec, master)
        load.write(target)
        _progress(f"load {index}/{repeat} done: {LOAD_FILE} written; querying Prometheus at {spec.prometheus.url}")
        records.append(measure(spec, load))
        if repeat > 1:
            records[-1].write(target)
    if repeat > 1:
        load.write(run_dir)
    return load, pool_records(records)


def _finish(
    run_dir: Path,
    spec: Spec,
    metrics: MetricsRecord,
    load: LoadResult | None,
    baseline: Baseline | None,
    caution_exit_code: int,
) -> None:
    judgement = judge(spec, metrics, baseline)
    loads = [LoadResult.read(run_dir / f"run-{number}") for number in _repeat_numbers(run_dir)]
    loads = loads or ([] if load is None else [load])  # load.repeat > 1: every run's measurement counts
    quality = load_quality.assess_runs(loads, metrics.measurements, spec.client_server_gap)
    if quality.warnings:  # a doubtful measurement keeps the verdict from being GO
        verdict = decide(judgement.results, metrics.could_not_evaluate, quality.warnings)
        judgement = Judgement(judgement.results, verdict)
    verdict = judgement.verdict
    exit_code = verdict.exit_code(caution_exit_code)
    artifacts = RunArtifacts(run_dir, spec, judgement, metrics, load, baseline, exit_code, quality)
    report_path = write_reports(artifacts)
    for warning in quality.warnings:
        click.echo(f"slagate: measurement warning: {warning}", err=True)
    if verdict.could_not_evaluate:
        click.echo(f"slagate: error: could not evaluate: {verdict.could_not_evaluate}", err=True)
    click.echo(f"slagate: verdict {verdict.decision.value} — rollout {verdict.rollout.describe()}")
    click.echo(f"slagate: report {report_path}")
    sys.exit(exit_code)


def _repeat_numbers(run_dir: Path) -> list[int]:
    """The numbers i of RUN_DIR/run-<i>/ holding a load.json (a run with `load.repeat` > 1), in order."""
    return sorted(int(p.name[4:]) for p in run_dir.glob("run-*") if p.name[4:].isdigit() and (p / LOAD_FILE).exists())


@contextlib.contextmanager
def _demo_endpoints(spec: Spec, demo: bool, demo_set: tuple[str, ...]) -> Iterator[Spec]:
    """The spec as given, or (with --demo) pointed at a freshly started demo target and Prometheus."""
    if not demo:
        if demo_set:
            raise UsageFailure("--demo-set: expected --demo as well")
        yield spec
        return
    from validator.demo.processes import demo_stack
    from validator.demo.prometheus_server import PrometheusNotFound
    from validator.demo.target import DemoSettings

    settings = _demo_settings(DemoSettings(), demo_set)
    try:
        with demo_stack(settings) as stack:
            _progress(f"demo: target {stack.target.url}, Prometheus {stack.prometheus.url}")
            yield spec.with_endpoints(stack.target.url, stack.prometheus.url)
    except PrometheusNotFound as error:
        _fail(str(error), ExitCode.COULD_NOT_EVALUATE)


def _demo_settings(defaults: "DemoSettings", assignments: tuple[str, ...]) -> "DemoSettings":
    """Apply `--demo-set KEY=VALUE` assignments; a bad one is a usage error naming it."""
    changes = {}
    for assignment in assignments:
        key, _, value = assignment.partition("=")
        try:
            changes[key] = json.loads(value)
        except json.JSONDecodeError:
            raise UsageFailure(f"--demo-set {assignment}: expected KEY=NUMBER, e.g. latency_multiplier=2") from None
    try:
        return defaults.with_changes(changes)
    except ValueError as error:
        raise UsageFailure(f"--demo-set: {error}") from None


def _empty_window() -> Window:
    now = time.time()
    return Window(now, now)


if __name__ == "__main__":
    main()
