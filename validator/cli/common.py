"""What every slagate command shares: the spec and CAUTION options, one-line errors, the verdict's exit."""

import contextlib
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from validator.artifacts import VERDICT_FILE
from validator.errors import CouldNotEvaluate, UsageError, WriteFailed
from validator.judge.verdict import ExitCode
from validator.pipeline import Outcome
from validator.redact import RedactingStream
from validator.report import console
from validator.spec import Spec
from validator.timing import Phases


def fail(message: str, code: int = ExitCode.USAGE) -> NoReturn:
    """Print one error line and exit with `code` (2, a usage error, unless said otherwise)."""
    click.echo(f"slagate: error: {message}", err=True)
    sys.exit(code)


class Slagate(click.Group):
    """The command group: every line printed passes through the redactor; click's own usage errors are one line and
    exit 2, as every other error is; a signal outside the run's own handling is exit 5, and a failure slagate did not
    foresee is one line and exit 4 (could not evaluate: never a GO), with the traceback only under SLAGATE_TRACEBACK=1.
    """

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if threading.current_thread() is threading.main_thread():  # SIGTERM stops as Ctrl-C does, never a bare kill
            signal.signal(signal.SIGTERM, signal.default_int_handler)
        with redacted_output():
            try:
                code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            except click.UsageError as error:
                see = f" (see '{error.ctx.command_path} --help')" if error.ctx is not None else ""
                fail(f"{error.format_message()}{see}")
            except click.ClickException as error:
                fail(error.format_message(), error.exit_code)
            except click.Abort:
                fail("stopped by a signal; what was written before stands", ExitCode.INCOMPLETE)
            except Exception as error:  # a defect: said in one line, never judged as anything but could-not-evaluate
                if os.environ.get("SLAGATE_TRACEBACK") == "1":
                    traceback.print_exc()
                fail(f"internal error: {error.__class__.__name__}: {' '.join(str(error).split())[:300]} (set "
                     "SLAGATE_TRACEBACK=1 to see where; please report it)", ExitCode.COULD_NOT_EVALUATE)
            if not standalone_mode:
                return code
            sys.exit(code if isinstance(code, int) else 0)


@contextlib.contextmanager
def redacted_output() -> Iterator[None]:
    """stdout and stderr redacted (every known secret masked) for as long as the command runs."""
    shown = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = RedactingStream(sys.stdout), RedactingStream(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = shown


def progress(message: str) -> None:
    """One progress line on stderr."""
    click.echo(f"slagate: {message}", err=True)


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
    type=click.Choice([str(int(ExitCode.GO)), str(int(ExitCode.CAUTION))]),
    default=str(int(ExitCode.CAUTION)),
    show_default=True,
    callback=lambda context, parameter, value: int(value),
    help="Exit code for a CAUTION verdict: 3 (its own code), or 0 to let a CAUTION pass a CI step. No other value: "
    "CAUTION could not be told from NO-GO (1), a usage error (2) or could-not-evaluate (4).",
)


def plain_path(context: click.Context, parameter: click.Parameter, value: Path | None) -> Path | None:
    """A click callback refusing a path with a control character (a line break would forge CI output lines and
    split log lines): one line, exit 2, before anything runs."""
    if value is not None and any(ord(char) < 32 or ord(char) == 127 for char in str(value)):
        fail(f"{parameter.opts[-1] if parameter.opts else parameter.name}: {str(value)!r}: expected a path without "
             "control characters (line breaks, tabs)")
    return value


def reports_dir_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--reports-dir` (default ./reports) with a command's own help."""
    return click.option(
        "--reports-dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=Path("reports"),
        show_default=True,
        help=help_text,
        callback=plain_path,
    )


def run_dir_argument(command: Callable[..., Any]) -> Callable[..., Any]:
    """RUN_DIR: an existing run folder (reports/<run-id>), without control characters in its path."""
    return click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False, exists=True),
                          callback=plain_path)(command)


verbose_option = click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="After the verdict, print on stderr where the time went: seconds per phase from the process's start "
    "(imports, spec, demo start and first scrape, preflight, load, the wait for the scrape after the window, "
    "queries, judging, charts, writing) and the seconds outside the load.",
)
format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: print the verdict document (verdict.json) on stdout and every human line on stderr, "
    "e.g. `slagate run --format json | jq -r .decision`.",
)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """The one place an error becomes an exit code (the tree is drawn in `validator/errors.py`): the user's input
    (spec, baseline, artifact, locustfile, option) is one line and exit 2; nothing that can be judged (Prometheus
    unusable, a file that cannot be written, a demo that cannot start) is one line and exit 4."""
    try:
        yield
    except UsageError as error:
        fail(str(error))
    except WriteFailed as error:  # a full disk or a read-only folder: what was written before stays whole
        fail(error.strerror or str(error), ExitCode.COULD_NOT_EVALUATE)
    except CouldNotEvaluate as error:  # e.g. Prometheus unusable for `validate`: an earlier measurement stands
        fail(f"could not evaluate: {error}", ExitCode.COULD_NOT_EVALUATE)


def exit_with(outcome: Outcome, output_format: str = "text", phases: Phases | None = None) -> NoReturn:
    """Print the verdict, the report's path and any measurement warning, then (with `phases`, i.e. --verbose) where
    the time went on stderr; exit with the verdict's code.

    With `output_format` "json" the verdict document goes to stdout and these lines to stderr.
    """
    json_out = output_format == "json"
    verdict = outcome.verdict
    for warning in outcome.measurement_warnings:
        click.echo(f"slagate: measurement warning: {warning}", err=True)
    for warning in console.waiver_warnings(verdict):
        click.echo(f"slagate: warning: {warning}", err=True)
    if verdict.could_not_evaluate:
        click.echo(f"slagate: error: could not evaluate: {verdict.could_not_evaluate}", err=True)
    click.echo(f"slagate: {console.verdict_line(verdict)}", err=json_out)
    click.echo(f"slagate: report {outcome.report}", err=json_out)
    if phases is not None:
        for line in console.breakdown_lines(phases.breakdown()):
            click.echo(f"slagate: {line}", err=True)
    if json_out:
        click.echo((outcome.run_dir / VERDICT_FILE).read_text(encoding="utf-8"), nl=False)
    sys.exit(outcome.exit_code)


@contextlib.contextmanager
def demo_endpoints(
    spec: Spec, demo: bool, demo_set: tuple[str, ...], phases: Phases | None = None
) -> Iterator[Spec]:
    """The spec as given, or (with --demo) pointed at a freshly started demo target and Prometheus (their start,
    first scrape and stop timed in `phases`)."""
    if not demo:
        if demo_set:
            fail("--demo-set: expected --demo as well")
        yield spec
        return
    from validator.demo.stack import demo_stack
    from validator.demo.target import DemoSettings

    try:
        settings = DemoSettings().with_assignments(demo_set)
    except ValueError as error:  # a bad --demo-set
        fail(str(error))
    with user_errors(), demo_stack(settings, phases=phases) as stack:
        progress(f"demo: target {stack.target.url}, Prometheus {stack.prometheus.url}")
        yield spec.with_endpoints(stack.target.url, stack.prometheus.url)
