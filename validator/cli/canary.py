"""`slagate rules` and `slagate dashboard`: the spec's gates handed to the canary that follows, as Prometheus
alert rules (with promtool unit tests) and as a Grafana dashboard."""

import os
from pathlib import Path

import click

from validator import artifacts, pipeline
from validator.baseline.file import Baseline
from validator.canary import dashboard as dashboard_render
from validator.canary import rules as rules_render
from validator.canary import rules_tests
from validator.cli.common import progress, spec_option, user_errors
from validator.errors import UsageError
from validator.judge import rollback
from validator.spec import Spec

baseline_option = click.option(
    "--baseline",
    "baseline_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The baseline whose figures relative bounds (max_regression) are computed from (default: the spec's).",
)
output_option = click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write here instead of stdout.",
)


@click.command()
@spec_option
@baseline_option
@click.option(
    "--run",
    "run_dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=None,
    help="The slagate run (reports/<run-id>) the canary follows; its id and verdict go into the annotations.",
)
@output_option
@click.option(
    "--tests",
    "tests_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write promtool unit tests for the rules here (needs -o): `promtool test rules TESTS`.",
)
def rules(spec_path: Path, baseline_path: Path | None, run_dir: Path | None, output: Path | None,
          tests_path: Path | None) -> None:  # fmt: skip
    """Write Prometheus recording and alerting rules that watch the canary against the spec's gates.

    One recording rule per gate metric over [rules] window; one alert per bound (max, min, max_regression as
    the baseline's figure moved by the tolerance, max_drift as the pinned reference's) held for [rules] for; a
    no-data alert per critical gate (fail closed); with [rules.slo], multi-window burn-rate alerts. Check them
    with `promtool check rules`.
    """
    with user_errors():
        if tests_path is not None and output is None:
            raise UsageError("--tests: expected -o/--output as well (the tests name the rules file)")
        spec, baseline, reference = _inputs(spec_path, baseline_path)
        criteria = rollback.criteria(
            spec.gates, rollback.baseline_figures(baseline), rollback.baseline_figures(reference)
        )
        run = _run_text(run_dir)
        text = rules_render.rules_yaml(spec, criteria, run)
        for criterion in criteria:
            if criterion.limit is None:
                progress(rules_render.no_limit_note(criterion))
        _write(text, output)
        if tests_path is not None and output is not None:
            alerts = rules_render.alerts(spec, criteria, run)
            relative = os.path.relpath(output.resolve(), tests_path.resolve().parent)
            try:
                tests_text, untested = rules_tests.tests_yaml(spec, str(relative), alerts)
            except rules_tests.Untestable as error:
                progress(rules_render.untestable_note(error))
            else:
                _write(tests_text, tests_path)
                for name in untested:
                    progress(rules_render.untested_note(name))


@click.command()
@spec_option
@baseline_option
@output_option
def dashboard(spec_path: Path, baseline_path: Path | None, output: Path | None) -> None:
    """Write a Grafana dashboard (JSON) of the spec's gate metrics: bounds as thresholds, the baseline's figures
    and the pinned reference's as lines, per route and canary vs stable when [rules] names those labels."""
    with user_errors():
        spec, baseline, reference = _inputs(spec_path, baseline_path)
        _write(dashboard_render.dashboard_json(spec, baseline, reference), output)


def _inputs(spec_path: Path, baseline_path: Path | None) -> tuple[Spec, Baseline | None, Baseline | None]:
    """The spec, the baseline given (or the spec's) and the pinned reference of `max_drift`; a relative bound
    without its baseline gets no alert."""
    spec, baseline = pipeline.load_inputs(spec_path, None if baseline_path is None else str(baseline_path))
    return spec, baseline, pipeline.load_reference(spec)


def _run_text(run_dir: Path | None) -> str | None:
    if run_dir is None:
        return None
    document = artifacts.read_json(run_dir / artifacts.VERDICT_FILE, "verdict")
    return f"{run_dir.name} (verdict {document['decision']})"


def _write(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
    else:
        artifacts.write_text(output, text)
        progress(f"written: {output}")
