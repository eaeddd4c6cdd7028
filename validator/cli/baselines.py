"""`slagate baseline …`: record and inspect the versioned baselines (baselines/<service>/<version>.json)."""

from pathlib import Path

import click

from validator import pipeline
from validator.cli.common import spec_option, user_errors
from validator.spec import load_spec


@click.group()
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
    with user_errors():
        spec = load_spec(spec_path)
        path = pipeline.record_baseline(list(run_dirs), spec, version, baselines_dir, force)
    click.echo(f"slagate: baseline written: {path} ({len(run_dirs)} run(s))")
