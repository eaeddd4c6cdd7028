"""The `slagate` command line: thin click commands over the pipeline stages; every rule lives elsewhere.

Exit codes: 0 GO, 3 CAUTION (--caution-exit-code may change it), 1 NO-GO, 2 usage or spec error,
4 could not evaluate (e.g. Prometheus unreachable; the verdict is then NO-GO).
"""

from validator.load import worker as load_worker  # noqa: I001  (locust's gevent patching must come first)

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import click

from validator import __version__, pipeline
from validator.errors import UsageError
from validator.load.distributed import MasterOptions, parse_host_port
from validator.load.worker import DEFAULT_MASTER_PORT
from validator.report import console
from validator.report.console import EXIT_CODES_HELP
from validator.spec import Spec, load_spec
from validator.verdict import ExitCode



def _fail(message: str, code: int = ExitCode.USAGE) -> NoReturn:
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
    with _user_errors():
        spec, baseline = pipeline.load_inputs(spec_path)
        master = MasterOptions.from_options(expect_workers, master_bind)
    with _demo_endpoints(spec, demo, demo_set) as spec, _user_errors():
        run_dir = pipeline.new_run_dir(reports_dir, spec.service)
        _progress(f"run {run_dir.name}: {console.describe_load(spec, master)} at {spec.target_url}")
        outcome = pipeline.run_validation(spec, baseline, run_dir, master, caution_exit_code, _progress)
    _exit_with(outcome)


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
    with _user_errors():
        host, port = parse_host_port(master, "--master", DEFAULT_MASTER_PORT)
        if locustfile is None:
            locustfile = load_spec(spec_path).load.locustfile
        _progress(f"worker: joining the master at {host}:{port} with {locustfile}")
        load_worker.run_worker(host, port, str(locustfile))
    _progress("worker: the master ended the load")


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False, exists=True))
@spec_option
@caution_option
def validate(run_dir: Path, spec_path: Path, caution_exit_code: int) -> None:
    """Re-query Prometheus for the window recorded in RUN_DIR/load.json (each RUN_DIR/run-<i>/load.json after
    `load.repeat` > 1, pooled as in the run), then judge and report again."""
    with _user_errors():
        spec, baseline = pipeline.load_inputs(spec_path)
        outcome = pipeline.validate_run(run_dir, spec, baseline, caution_exit_code)
    _exit_with(outcome)


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False, exists=True))
@spec_option
@caution_option
def report(run_dir: Path, spec_path: Path, caution_exit_code: int) -> None:
    """Judge RUN_DIR/metrics.json again (e.g. with edited gates) and re-render report.md; no network."""
    with _user_errors():
        spec, baseline = pipeline.load_inputs(spec_path)
        outcome = pipeline.finish(run_dir, spec, baseline, caution_exit_code)
    _exit_with(outcome)


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
    with _user_errors():
        spec = load_spec(spec_path)
        path = pipeline.record_baseline(list(run_dirs), spec, version, baselines_dir, force)
    click.echo(f"slagate: baseline written: {path} ({len(run_dirs)} run(s))")


@contextlib.contextmanager
def _user_errors() -> Iterator[None]:
    """Turn an error in the user's input (spec, baseline, artifact, locustfile, option) into one line, exit 2."""
    try:
        yield
    except UsageError as error:
        _fail(str(error))


def _exit_with(outcome: pipeline.Outcome) -> NoReturn:
    """Print the verdict, the report's path and any measurement warning; exit with the verdict's code."""
    verdict = outcome.verdict
    for warning in outcome.measurement_warnings:
        click.echo(f"slagate: measurement warning: {warning}", err=True)
    if verdict.could_not_evaluate:
        click.echo(f"slagate: error: could not evaluate: {verdict.could_not_evaluate}", err=True)
    click.echo(f"slagate: {console.verdict_line(verdict)}")
    click.echo(f"slagate: report {outcome.report}")
    sys.exit(outcome.exit_code)


@contextlib.contextmanager
def _demo_endpoints(spec: Spec, demo: bool, demo_set: tuple[str, ...]) -> Iterator[Spec]:
    """The spec as given, or (with --demo) pointed at a freshly started demo target and Prometheus."""
    if not demo:
        if demo_set:
            _fail("--demo-set: expected --demo as well")
        yield spec
        return
    from validator.demo.processes import demo_stack
    from validator.demo.prometheus_server import PrometheusNotFound
    from validator.demo.target import DemoSettings

    try:
        settings = DemoSettings().with_assignments(demo_set)
    except ValueError as error:  # a bad --demo-set
        _fail(str(error))
    try:
        with demo_stack(settings) as stack:
            _progress(f"demo: target {stack.target.url}, Prometheus {stack.prometheus.url}")
            yield spec.with_endpoints(stack.target.url, stack.prometheus.url)
    except PrometheusNotFound as error:
        _fail(str(error), ExitCode.COULD_NOT_EVALUATE)


if __name__ == "__main__":
    main()
