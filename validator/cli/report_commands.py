"""`slagate checklist` and `slagate history`: re-render a run's readiness checklist; show runs across releases."""

import re
import sys
from pathlib import Path

import click

from validator import pipeline
from validator.cli.common import fail, progress, reports_dir_option, run_dir_argument, spec_option, user_errors
from validator.judge.changes import history_changes
from validator.judge.verdict import ExitCode
from validator.report import history

reports_option = reports_dir_option("Where the run folders and history.jsonl are.")


@click.command()
@run_dir_argument
@spec_option
def checklist(run_dir: Path, spec_path: Path) -> None:
    """Re-render RUN_DIR/checklist.md from the spec's checklist template and the run's recorded results (no
    network); prints its path."""
    with user_errors():
        spec, baseline = pipeline.load_inputs(spec_path)
        path = pipeline.write_checklist_for(run_dir, spec, baseline)
    if path is None:
        fail(f"{spec_path}: report.checklist: expected a checklist template path; the spec names none")
    click.echo(f"slagate: checklist {path}")


@click.command("history")
@click.option("--service", default=None, help="Only this service's runs (default: every service).")
@reports_option
@click.option(
    "--chart",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Where to write the trend chart (default: REPORTS_DIR/history[-SERVICE].png).",
)
@click.option("--changes", is_flag=True,
              help="Print the change points instead: where a gate's figure moved to a new level across the runs "
              "(each level tested against the last with the runs as units); exit 3 when one starts in the last "
              "--last runs, so a nightly job can gate on it.")
@click.option("--since", "since", default=None, metavar="VERSION",
              help="Only the runs from the first run of VERSION on.")
@click.option("--last", "last", type=click.IntRange(1), default=3, show_default=True,
              help="With --changes: how many of the latest runs a new level must start in to exit 3.")
def history_command(service: str | None, reports_dir: Path, chart: Path | None, changes: bool, since: str | None,
                    last: int) -> None:
    """Print every judged run in REPORTS_DIR/history.jsonl across versions (verdict, p50/p95/p99 and success rate
    with intervals) and write a trend chart; with --changes, the change points across releases.

    \b
    Example (nightly): slagate history --changes --service api --last 3 || echo "a new level in the last 3 runs"
    """
    from validator.report.history_view import changes_table, history_table, skipped_lines, trend_chart  # matplotlib

    path = reports_dir / history.HISTORY_FILE
    read = history.read(path, service)
    for line in skipped_lines(path, read.skipped):
        progress(f"warning: {line}")
    if not reports_dir.is_dir():
        fail(f"--reports-dir: {str(reports_dir)!r}: expected an existing reports folder")
    if not read.entries:
        progress(f"{path}: no run" + (f" of service {service!r}" if service else "") + " recorded yet")
        return
    entries = read.entries
    if since is not None:
        first = next((i for i, entry in enumerate(entries) if entry["version"] == since), None)
        if first is None:
            fail(f"--since: {since!r}: expected a version recorded in {path}")
        entries = entries[first:]
    found = history_changes(entries) if changes else []
    click.echo(changes_table(found) if changes else history_table(entries))
    services = {entry["service"] for entry in entries}
    if len(services) > 1:
        progress("trend chart skipped: several services; choose one with --service")
    else:
        safe = re.sub(r"[^A-Za-z0-9._-]+", "-", service) if service else ""
        target = chart or reports_dir / (f"history-{safe}.png" if service else "history.png")
        click.echo(f"slagate: trend chart {trend_chart(entries, target, found)}")
    recent = [c for c in found if c.point.index >= sum(e["service"] == c.service for e in entries) - last]
    if recent:
        progress(f"{len(recent)} change point(s) in the last {last} runs: a new level (exit 3)")
        sys.exit(int(ExitCode.CAUTION))
