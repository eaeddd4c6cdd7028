"""`slagate baseline …`: record, promote, list, show, validate, diff and calibrate the versioned baselines."""

from pathlib import Path

import click

from validator import pipeline
from validator.baseline.file import Baseline, check_version, load_baseline
from validator.baseline.promote import promotion_problem
from validator.baseline.store import resolve, services, versions
from validator.cli.common import demo_endpoints, fail, progress, reports_dir_option, spec_option, user_errors
from validator.errors import UsageError
from validator.judge.baseline_compare import diff
from validator.report import baseline_words
from validator.spec import Spec, load_spec
from validator.spec.baseline import BaselineSpec, is_reference
from validator.stats.intervals import interval_level

baselines_dir_option = click.option(
    "--baselines-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Root of the baseline folders (default: the spec's [baseline] dir, baselines/ beside the spec).",
)
force_option = click.option("--force", is_flag=True, help="Replace an existing baseline of the same version.")
version_option = click.option(
    "--version", "version", required=True, help="The baseline's version, e.g. the build's release (1.4.2)."
)
run_dirs_argument = click.argument(
    "run_dirs", nargs=-1, required=True, type=click.Path(path_type=Path, file_okay=False, exists=True)
)


@click.group()
def baseline() -> None:
    """Record, promote, list, show, validate, diff and calibrate baselines (baselines/<service>/<version>.json)."""


def _record(run_dirs: list[Path], spec: Spec, version: str, baselines_dir: Path | None, force: bool) -> None:
    path = pipeline.record_baseline(run_dirs, spec, version, baselines_dir or spec.baseline.directory, force)
    click.echo(f"slagate: baseline written: {path} ({len(run_dirs)} run folder(s))")


@baseline.command("record")
@run_dirs_argument
@version_option
@spec_option
@baselines_dir_option
@force_option
def baseline_record(
    run_dirs: tuple[Path, ...], version: str, spec_path: Path, baselines_dir: Path | None, force: bool
) -> None:
    """Write the figures measured in RUN_DIRS as baselines/<service>/<VERSION>.json (review it in git).

    Give two or more runs of the same build (e.g. three `slagate run`s in a row): the baseline then
    carries their run-to-run noise, which keeps a one-run candidate's comparison honest.
    """
    with user_errors():
        _record(list(run_dirs), load_spec(spec_path), version, baselines_dir, force)


@baseline.command("promote")
@run_dirs_argument
@version_option
@spec_option
@baselines_dir_option
@click.option("--force", is_flag=True, help="Promote a CAUTION run too (never a NO-GO or INCOMPLETE one).")
def baseline_promote(
    run_dirs: tuple[Path, ...], version: str, spec_path: Path, baselines_dir: Path | None, force: bool
) -> None:
    """Make finished GO run(s) the next baseline; a NO-GO or INCOMPLETE run is refused, a CAUTION one unless --force."""
    with user_errors():
        for run_dir in run_dirs:
            problem = promotion_problem(run_dir, force)
            if problem is not None:
                raise problem
        _record(list(run_dirs), load_spec(spec_path), version, baselines_dir, False)


@baseline.command("list")
@click.argument("service", required=False)
@spec_option
@baselines_dir_option
def baseline_list(service: str | None, spec_path: Path, baselines_dir: Path | None) -> None:
    """Versions of SERVICE (default: every service) in semantic-version order, with date, runs and key figures."""
    with user_errors():
        directory = baselines_dir or _spec_baselines_dir(spec_path)
        names = [service] if service else services(directory)
        if not names:
            fail(f"{directory}: (folder): expected baselines/<service>/<version>.json files; none found")
        for name in names:
            loaded = [load_baseline(stored.path) for stored in versions(directory, name)]
            click.echo(f"## {name}\n\n{baseline_words.list_table(loaded)}\n")


@baseline.command("show")
@click.argument("selector", metavar="FILE|SERVICE@VERSION|VERSION")
@spec_option
@baselines_dir_option
def baseline_show(selector: str, spec_path: Path, baselines_dir: Path | None) -> None:
    """The baseline's summary as a table: provenance, load profile, per metric estimate and interval."""
    with user_errors():
        click.echo(baseline_words.show_text(_select(selector, spec_path, baselines_dir)))


@baseline.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def baseline_validate(files: tuple[Path, ...]) -> None:
    """Check each FILE (or every *.json under a folder): JSON Schema and internal consistency; exit 2 naming the
    file and key path of the first problem in each file that has one."""
    paths = [p for f in files for p in (sorted(f.rglob("*.json")) if f.is_dir() else [f])]
    failed = 0
    for path in paths:
        try:
            loaded = load_baseline(path)
        except UsageError as error:
            click.echo(f"slagate: error: {error}", err=True)
            failed += 1
            continue
        click.echo(f"slagate: ok: {path} ({loaded.service} {loaded.version})")
    if failed or not paths:
        fail(f"{failed} of {len(paths)} baseline file(s) invalid" if paths else "no baseline file given")


@baseline.command("diff")
@click.argument("older", metavar="A")
@click.argument("newer", metavar="B")
@spec_option
@baselines_dir_option
def baseline_diff(older: str, newer: str, spec_path: Path, baselines_dir: Path | None) -> None:
    """Baseline B against baseline A (files, SERVICE@VERSION, or a VERSION of the spec's service), judged by the
    spec's gates with the same statistics as a run, in the report's table format; with [baseline] reference, B's
    drift since that pinned baseline beside, judged by the gates' max_drift."""
    with user_errors():
        spec = load_spec(spec_path)
        a, b = (_select(s, spec_path, baselines_dir) for s in (older, newer))
        reference = pipeline.load_reference(spec)
        click.echo(baseline_words.diff_table(diff(a, b, spec, reference), a, b, interval_level(spec.level), reference))


@baseline.command("calibrate")
@spec_option
@click.option("--runs", "runs", type=click.IntRange(2), default=5, show_default=True, help="Runs back to back.")
@version_option
@click.option("--demo", is_flag=True, help="Calibrate on the built-in demo target and a real Prometheus.")
@reports_dir_option("Where the calibration's run folder is created.")
@baselines_dir_option
@force_option
def baseline_calibrate(
    spec_path: Path, runs: int, version: str, demo: bool, reports_dir: Path, baselines_dir: Path | None, force: bool
) -> None:
    """Run the spec's load RUNS times back to back, record them as one baseline, and print per gate the smallest
    max_regression a same-build run PASSes 95 % of the time and the regression it then catches 95 % of the time."""
    with user_errors():
        spec = load_spec(spec_path)
        check_version(version)
    with demo_endpoints(spec, demo, ()) as target, user_errors():
        run_dir = pipeline.new_run_dir(reports_dir, spec.service)
        progress(f"calibration {run_dir.name}: {runs} runs of {spec.load.duration:g} s at {target.shown_target}")
        rows = pipeline.calibration(target, runs, run_dir, progress)
        _record([run_dir], spec, version, baselines_dir, force)
    click.echo(baseline_words.calibration_table(rows, spec.level))


def _spec_baselines_dir(spec_path: Path) -> Path:
    return load_spec(spec_path).baseline.directory if spec_path.exists() else Path("baselines")


def _select(selector: str, spec_path: Path, baselines_dir: Path | None) -> Baseline:
    """The baseline a FILE, SERVICE@VERSION or bare VERSION names (the spec, when it exists, gives the folder and
    the service)."""
    spec = load_spec(spec_path) if spec_path.exists() else None
    if spec and not is_reference(selector) and "/" not in selector and not Path(selector).exists():
        selector = f"{spec.service}@{selector}"  # a bare version of the spec's service
    settings = spec.baseline if spec else None
    if settings is None or baselines_dir is not None:
        settings = BaselineSpec(directory=baselines_dir or Path("baselines"))
    return load_baseline(resolve(selector, settings, spec.service if spec else ""))
