"""`slagate run`, `worker`, `validate` and `report`: the validation stages from the command line."""

from validator.load import worker as load_worker  # noqa: I001  (locust's gevent patching must come first)

import sys
import time
from collections.abc import Callable
from pathlib import Path

import click

from validator import interrupt, pipeline
from validator.baseline.file import Baseline
from validator.cli.common import (
    run_dir_argument,
    caution_option,
    demo_endpoints,
    exit_with,
    format_option,
    progress,
    reports_dir_option,
    spec_option,
    user_errors,
    verbose_option,
)
from validator.load.distributed import MasterOptions, parse_host_port
from validator.load.worker import DEFAULT_MASTER_PORT
from validator.report import console
from validator.report.console import EXIT_CODES_HELP
from validator.spec import Spec, load_spec
from validator.judge.verdict import ExitCode
from validator.timing import Phase, Phases, command_started


baseline_option = click.option(
    "--baseline",
    "baseline_selector",
    metavar="FILE|SERVICE@VERSION|latest",
    default=None,
    help="The baseline to compare with, instead of the spec's [baseline] file.",
)


@click.command(epilog=EXIT_CODES_HELP)
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
@reports_dir_option("Where reports/<run-id>/ is created.")
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
@format_option
@baseline_option
@verbose_option
def run(
    spec_path: Path,
    demo: bool,
    demo_set: tuple[str, ...],
    reports_dir: Path,
    caution_exit_code: int,
    expect_workers: int | None,
    master_bind: str | None,
    output_format: str,
    baseline_selector: str | None,
    verbose: bool,
) -> None:
    """Run load, measure it in Prometheus, judge the gates and write the report.

    Writes reports/<run-id>/load.json, metrics.json, verdict.json and report.md, prints the verdict
    and the report's path, and exits with the verdict's exit code. --verbose adds where the time went.
    """
    phases = command_started()
    with user_errors(), phases.phase(Phase.INPUTS):
        spec, baseline = pipeline.load_inputs(spec_path, baseline_selector)
        master = MasterOptions.from_options(expect_workers, master_bind)
    stoppable = interrupt.stop_on_signals(ExitCode.INCOMPLETE)  # Ctrl-C: keep what was measured, INCOMPLETE
    with stoppable, demo_endpoints(spec, demo, demo_set, phases) as spec, user_errors():
        run_dir = pipeline.new_run_dir(reports_dir, spec.service)
        progress(f"run {run_dir.name}: {console.describe_load(spec, master)} at {spec.shown_target}")
        outcome = pipeline.run_validation(spec, baseline, run_dir, master, caution_exit_code, progress, phases)
    exit_with(outcome, output_format, phases if verbose else None)


@click.command(epilog=EXIT_CODES_HELP)
@spec_option
@click.option("--demo", is_flag=True, help="Check against the built-in demo target and a real Prometheus.")
@click.option("--demo-set", multiple=True, metavar="KEY=VALUE", help="With --demo: a demo target setting.")
def check(spec_path: Path, demo: bool, demo_set: tuple[str, ...]) -> None:
    """Check the spec's reading of the service against the live Prometheus, with no load.

    For each claim the spec makes (the latency histogram and its kind, the request counter and its type, the
    error label, the values it takes and which of them error_regex counts as errors) prints what Prometheus has,
    asked with the spec's own auth, TLS and headers. Exits 0 when nothing is refuted, 2 when a claim is (the
    same check stops `slagate run` before any load), 4 when Prometheus cannot be asked. Run it while writing a
    spec.
    """
    with user_errors():
        spec = load_spec(spec_path)
    with demo_endpoints(spec, demo, demo_set) as spec, user_errors():
        if demo:
            time.sleep(spec.prometheus.scrape_interval * 2)  # the demo's Prometheus scrapes its target first
        reading = pipeline.check_reading(spec)
    for line in console.reading_lines(reading, spec):
        click.echo(f"slagate: {line}")
    sys.exit(ExitCode.USAGE if reading.problems else ExitCode.GO)


@click.command()
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
    with user_errors():
        host, port = parse_host_port(master, "--master", DEFAULT_MASTER_PORT)
        if locustfile is None:
            locustfile = load_spec(spec_path).load.locustfile
        progress(f"worker: joining the master at {host}:{port} with {locustfile}")
        load_worker.run_worker(host, port, str(locustfile))
    progress("worker: the master ended the load")


@click.command(epilog=EXIT_CODES_HELP)
@run_dir_argument
@spec_option
@caution_option
@format_option
@baseline_option
@verbose_option
def validate(
    run_dir: Path,
    spec_path: Path,
    caution_exit_code: int,
    output_format: str,
    baseline_selector: str | None,
    verbose: bool,
) -> None:
    """Re-query Prometheus for the window recorded in RUN_DIR/load.json (each RUN_DIR/run-<i>/load.json after
    `load.repeat` > 1, pooled as in the run), then judge and report again."""
    _judge_again(pipeline.validate_run, run_dir, spec_path, caution_exit_code, output_format, baseline_selector,
                 verbose)


@click.command(epilog=EXIT_CODES_HELP)
@run_dir_argument
@spec_option
@caution_option
@format_option
@baseline_option
@verbose_option
def report(
    run_dir: Path,
    spec_path: Path,
    caution_exit_code: int,
    output_format: str,
    baseline_selector: str | None,
    verbose: bool,
) -> None:
    """Judge RUN_DIR/metrics.json again (e.g. with edited gates) and re-render report.md; no network."""
    _judge_again(pipeline.finish, run_dir, spec_path, caution_exit_code, output_format, baseline_selector, verbose)


def _judge_again(
    stage: Callable[[Path, Spec, Baseline | None, int, Phases], pipeline.Outcome],
    run_dir: Path,
    spec_path: Path,
    caution_exit_code: int,
    output_format: str,
    baseline_selector: str | None,
    verbose: bool,
) -> None:
    """Run `stage` on a recorded run folder with the spec and baseline, then exit with its verdict (and, when
    `verbose`, where the time went)."""
    phases = command_started()
    with interrupt.stop_on_signals(ExitCode.INCOMPLETE), user_errors():
        with phases.phase(Phase.INPUTS):
            spec, baseline = pipeline.load_inputs(spec_path, baseline_selector)
        outcome = stage(run_dir, spec, baseline, caution_exit_code, phases)
    exit_with(outcome, output_format, phases if verbose else None)
