"""`slagate serve`: the validation as an HTTP service, so a canary controller (Flagger, Argo Rollouts) calls it."""

import dataclasses
import ipaddress
import os
import sys
import threading
import time
from http import HTTPStatus
from pathlib import Path

import click

from validator import interrupt, pipeline
from validator.baseline.file import Baseline
from validator.cli.common import demo_endpoints, fail, progress, reports_dir_option, spec_option, user_errors
from validator.cli.server import PRE_ROLLOUT, Answer, Hook, OneLoad, ServeMetrics, Settings, SlagateServer
from validator.errors import CouldNotEvaluate, UsageError
from validator.judge.verdict import ExitCode
from validator.load.distributed import parse_host_port
from validator.redact import keep_secret
from validator.report import console
from validator.spec import Spec

DEFAULT_PORT = 8080
STATUS_BY_EXIT = {  # the run's exit code → the hook's status: Flagger passes a check only on ≤ 202
    ExitCode.GO: HTTPStatus.OK,
    ExitCode.NO_GO: HTTPStatus.PRECONDITION_FAILED,
    ExitCode.CAUTION: HTTPStatus.PRECONDITION_FAILED,  # OK with --caution-passes, whose runs exit 0 on CAUTION
    ExitCode.COULD_NOT_EVALUATE: HTTPStatus.SERVICE_UNAVAILABLE,
    ExitCode.INCOMPLETE: HTTPStatus.SERVICE_UNAVAILABLE,
}
JUDGED = (HTTPStatus.OK, HTTPStatus.PRECONDITION_FAILED)  # answers a retry with the same checksum gets again

SERVE_HELP = """\b
Answers (text lines; verdict.json for /runs):
  POST /flagger/pre-rollout  Flagger's payload {"name","namespace","phase","checksum","metadata"}
                 runs one validation, as `slagate run` does, and answers
                 200 GO (CAUTION too with --caution-passes), 412 NO-GO or CAUTION with the
                 reasons and the report's path, 503 could not evaluate or stopped, 409 while
                 another checksum's load runs (two loads never overlap). The same checksum
                 again gets the same run's answer and starts no load. metadata may hold only
                 baseline (a recorded version) and version (the candidate's [service] version).
  GET  /runs/latest?service=S, /runs/<run-id>   the run's verdict.json (404 when absent)
  GET  /healthz  "ok", never asks for the token
  GET  /metrics  slagate_serve_runs_total{decision}, slagate_serve_run_duration_seconds,
                 slagate_serve_runs_in_progress
\b
Exit: 0 after Ctrl-C/SIGTERM with no run in progress, 5 when a run was cut short
(it ends INCOMPLETE, never GO, and its caller gets 503), 2 on bad options.
"""


@click.command(epilog=SERVE_HELP)
@spec_option
@click.option(
    "--listen",
    metavar="HOST:PORT",
    default=f"127.0.0.1:{DEFAULT_PORT}",
    show_default=True,
    help="Where to listen. Any address but loopback requires --token-env (or --unauthenticated).",
)
@reports_dir_option("Where each run's reports/<run-id>/ is created (and /runs reads).")
@click.option("--caution-passes", is_flag=True, help="Answer 200 on CAUTION (default: 412, the check fails).")
@click.option(
    "--token-env",
    metavar="NAME",
    default=None,
    help="The environment variable holding the bearer token every request but /healthz must bear "
    "(Authorization: Bearer <token>). Required off loopback; on loopback, checked when given.",
)
@click.option(
    "--unauthenticated",
    is_flag=True,
    help="Off loopback, serve callers without a token: for Flagger, whose webhooks send no headers "
    "(fluxcd/flagger#1192). Only with a NetworkPolicy (or mesh policy) that admits the controller alone.",
)
@click.option(
    "--demo",
    is_flag=True,
    help="Start the built-in demo target and a real Prometheus on 127.0.0.1 and validate against them; "
    "both stop with the server.",
)
def serve(
    spec_path: Path,
    listen: str,
    reports_dir: Path,
    caution_passes: bool,
    token_env: str | None,
    unauthenticated: bool,
    demo: bool,
) -> None:
    """Serve the validation over HTTP, for canary controllers: a Flagger pre-rollout webhook, an Argo Rollouts
    web metric.

    \b
    Flagger (Canary .spec.analysis.webhooks; timeout: the load's duration + ~30 s):
      - name: slagate
        type: pre-rollout
        url: http://slagate.slagate:8080/flagger/pre-rollout
        timeout: 90s
        metadata: {baseline: "1.4.0", version: "1.5.0"}
    Argo Rollouts (AnalysisTemplate web metric, after the run):
      provider: {web: {url: "http://slagate.slagate:8080/runs/latest?service=checkout",
                       jsonPath: "{$.decision}"}}
      successCondition: result == "GO"
    Try it:
      slagate serve --demo --listen 127.0.0.1:8080 &
      curl -i -d '{"name":"demo","namespace":"test","phase":"Progressing","checksum":"a1"}' \\
        http://127.0.0.1:8080/flagger/pre-rollout

    The recipes (and a Job running `slagate run`) are in docs/canary.md.
    """
    with user_errors():
        spec, baseline = pipeline.load_inputs(spec_path)
        host, port = parse_host_port(listen, "--listen", DEFAULT_PORT)
    host = host.removeprefix("[").removesuffix("]")
    token = _token(token_env, host, unauthenticated)
    caution_exit_code = ExitCode.GO if caution_passes else ExitCode.CAUTION
    metrics = ServeMetrics()
    with interrupt.stop_on_signals(ExitCode.INCOMPLETE), demo_endpoints(spec, demo, ()) as spec, user_errors():
        validation = Validation(spec_path, spec, baseline, reports_dir, caution_exit_code, metrics)
        settings = Settings(OneLoad(validation.run), reports_dir, spec.service, metrics, token)
        try:
            server = SlagateServer((host, port), settings)
        except OSError as error:
            fail(f"--listen {listen}: cannot listen there ({error.strerror or error})")
        guarded = (f"; every path but /healthz asks for the bearer token in ${token_env}" if token
                   else "; no token asked (--unauthenticated): only a network policy keeps other callers out"
                   if unauthenticated else "")
        progress(f"serving {spec.service} on http://{listen}: POST {PRE_ROLLOUT}, GET /runs/latest, /runs/<run-id>, "
                 f"/healthz, /metrics; runs in {reports_dir}{guarded}")
        _serve_until_stopped(server)
    sys.exit(ExitCode.INCOMPLETE if validation.cut_short else ExitCode.GO)


def _token(token_env: str | None, host: str, unauthenticated: bool = False) -> str | None:
    """The bearer token from the environment variable --token-env names; required (exit 2) off loopback unless
    the caller cannot send one and says so (--unauthenticated)."""
    if token_env is not None and unauthenticated:
        fail("--unauthenticated and --token-env: expected one of them (a token, or none at all)")
    if token_env is None:
        if not _loopback(host) and not unauthenticated:
            fail(f"--listen {host}: not a loopback address; pass --token-env NAME (a variable holding a bearer token) "
                 "so only callers bearing it are served, or --unauthenticated for a caller that cannot send one "
                 "(Flagger's webhooks) behind a network policy")
        return None
    token = os.environ.get(token_env, "")
    if len(token) < 16:
        fail(f"--token-env {token_env}: expected the variable to hold a token of 16 characters or more "
             f"({'it is unset or empty' if not token else 'it is shorter'})")
    keep_secret(token)
    return token


def _loopback(host: str) -> bool:
    """Whether `host` is a loopback address (127.0.0.0/8, ::1) or `localhost`."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve anywhere
        return False


def _serve_until_stopped(server: SlagateServer) -> None:
    """Serve until Ctrl-C or SIGTERM; then stop taking requests, let a run in progress end INCOMPLETE and its
    callers get their 503, and close."""
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    serving.start()
    while (stop := interrupt.requested()) is None:
        time.sleep(0.2)
    progress(f"stopping on {stop.signal_name}: no new requests; a run in progress ends INCOMPLETE")
    server.shutdown()
    server.server_close()  # joins the request threads: every pending answer is sent first


@dataclasses.dataclass
class Validation:
    """One validation per hook, exactly as `slagate run --spec` runs it, with the metadata's baseline and version."""

    spec_path: Path
    spec: Spec  # as loaded, pointed at the demo with --demo
    baseline: Baseline | None
    reports_dir: Path
    caution_exit_code: int
    metrics: ServeMetrics
    cut_short: bool = False  # a run ended INCOMPLETE: the process exits 5

    def run(self, hook: Hook) -> Answer:
        """Validate for `hook` and say the verdict as the hook's answer."""
        try:
            spec, baseline = self._inputs(hook)
        except UsageError as error:  # e.g. a baseline version never recorded
            return Answer(HTTPStatus.BAD_REQUEST, (f"error: {error}",))
        self.metrics.in_progress.inc()
        started = time.monotonic()
        try:
            run_dir = pipeline.new_run_dir(self.reports_dir, spec.service)
            progress(f"run {run_dir.name} for {hook.shown}: {console.describe_load(spec, None)} at {spec.shown_target}")
            outcome = pipeline.run_validation(spec, baseline, run_dir, None, self.caution_exit_code, progress)
        except UsageError as error:  # the served spec cannot be used (e.g. its reading of the service is refuted)
            self.metrics.runs.labels("ERROR").inc()
            progress(f"error: {error}")
            return Answer(HTTPStatus.INTERNAL_SERVER_ERROR, (f"error: {error}",))
        except CouldNotEvaluate as error:  # e.g. a full disk
            self.metrics.runs.labels("COULD-NOT-EVALUATE").inc()
            progress(f"error: could not evaluate: {error}")
            return Answer(HTTPStatus.SERVICE_UNAVAILABLE, (f"error: could not evaluate: {error}",))
        finally:
            self.metrics.in_progress.dec()
            self.metrics.duration.observe(time.monotonic() - started)
        verdict = outcome.verdict
        self.cut_short = self.cut_short or verdict.incomplete is not None
        kind = ("INCOMPLETE" if verdict.incomplete else "COULD-NOT-EVALUATE" if verdict.could_not_evaluate
                else verdict.decision.value)
        self.metrics.runs.labels(kind).inc()
        status = STATUS_BY_EXIT[ExitCode(outcome.exit_code)]
        lines = [console.verdict_line(verdict)]
        if status != HTTPStatus.OK:  # the reasons name a stop or a could-not-evaluate too
            lines += [f"reason: {reason}" for reason in verdict.reasons]
        lines += [f"measurement warning: {warning}" for warning in outcome.measurement_warnings]
        lines.append(f"report {outcome.report}")
        progress(f"run {run_dir.name} for {hook.shown}: {lines[0]} → {status}")
        return Answer(status, tuple(lines), remember=status in JUDGED)

    def _inputs(self, hook: Hook) -> tuple[Spec, Baseline | None]:
        """The spec and baseline for this hook: the served ones, with the baseline version and candidate version its
        metadata names."""
        spec, baseline = self.spec, self.baseline
        if hook.baseline is not None:
            _, baseline = pipeline.load_inputs(self.spec_path, f"{spec.service}@{hook.baseline}", "metadata.baseline")
        if hook.version is not None:
            spec = dataclasses.replace(spec, version=hook.version)
        return spec, baseline
