"""The `slagate` command line: thin click commands over the pipeline stages; every rule lives elsewhere.

A command parses its options, calls one pipeline function, prints, and exits with the documented code:
0 GO, 3 CAUTION (--caution-exit-code may change it), 1 NO-GO, 2 usage or spec error, 4 could not evaluate,
5 incomplete (stopped by a signal).
"""

from validator.cli import stages  # noqa: I001  (locust's gevent patching must come first)

import atexit
import gc

import click

from validator import __version__
from validator.cli import baselines, canary, init, report_commands, serve
from validator.cli.common import Slagate
from validator.report.console import EXIT_CODES_HELP


@click.group(cls=Slagate, epilog=EXIT_CODES_HELP)
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


# At exit the interpreter's last collections would walk every object still alive, ~0.25 s after the verdict is
# printed; frozen, they are skipped. The atexit handlers (the demo's clean-up among them) still run.
atexit.register(gc.freeze)

for command in (
    stages.run,
    stages.check,
    init.init,
    stages.worker,
    stages.validate,
    stages.report,
    baselines.baseline,
    canary.rules,
    canary.dashboard,
    report_commands.checklist,
    report_commands.history_command,
    serve.serve,
):
    main.add_command(command)
