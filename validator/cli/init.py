"""`slagate init`: a spec and a starter locustfile written from what Prometheus has for the service."""

import time
from pathlib import Path

import click

from validator.cli.common import fail, progress, user_errors
from validator.prometheus.client import PrometheusClient
from validator.prometheus.discovery import discover
from validator.report import starter
from validator.spec.prometheus import PrometheusSpec, Secret


@click.command("init")
@click.option("--prometheus", "prometheus_url", required=True, metavar="URL", help="The Prometheus to read.")
@click.option("--selector", default="", show_default=True, metavar="MATCHERS",
              help="Label matchers that scope the service, e.g. 'job=\"api\"'.")
@click.option("--target", "target_url", default="http://127.0.0.1:8080", show_default=True, metavar="URL",
              help="The service the load will hit ([target] url).")
@click.option("--bearer-token-env", metavar="NAME", default=None, help="Send `Authorization: Bearer $NAME`.")
@click.option("--basic-auth-user", metavar="USER", default=None, help="Basic auth user (password from --basic-auth-"
              "password-env).")
@click.option("--basic-auth-password-env", metavar="NAME", default=None, help="The basic auth password's variable.")
@click.option("--ca-file", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help="A CA bundle that signs Prometheus's certificate.")
@click.option("--tls-insecure", is_flag=True, help="Do not verify Prometheus's certificate.")
@click.option("--duration", default="60s", show_default=True, help="The load's duration in the written spec.")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=Path("sla.toml"),
              show_default=True, help="The spec to write; the locustfile goes beside it as locustfile.py.")
@click.option("--force", is_flag=True, help="Overwrite an existing spec or locustfile.")
def init(prometheus_url: str, selector: str, target_url: str, bearer_token_env: str | None,
         basic_auth_user: str | None, basic_auth_password_env: str | None, ca_file: Path | None, tls_insecure: bool,
         duration: str, output: Path, force: bool) -> None:  # fmt: skip
    """Write a spec and a starter locustfile from what Prometheus has for the service, with no load.

    Finds the HTTP server latency histogram (classic or native, seconds or milliseconds), the request counter
    with its status label, the route label and its values in /api/v1/metadata and the series under --selector,
    names the preset that fits (or writes the names out), lists the bucket bounds, and proposes latency bounds
    at twice the last 10 minutes' p95 and p99, each marked as a proposal (a bound the buckets cannot decide is
    flagged). The locustfile has one GET task per route seen, a TODO where a path has parameters. Then run
    `slagate check --spec` on it. Exits 2 when nothing usable is found.
    """
    locustfile = output.parent / "locustfile.py"
    existing = [path for path in (output, locustfile) if path.exists()]
    if existing and not force:
        fail(f"{existing[0]} exists: expected a new file (or --force to overwrite it)")
    auth: list[str] = []
    if bearer_token_env:
        auth.append(f'bearer_token_env = "{bearer_token_env}"')
    if basic_auth_user:
        auth += [f'basic_auth_user = "{basic_auth_user}"', f'basic_auth_password_env = "{basic_auth_password_env}"']
    if ca_file is not None:
        auth.append(f'ca_file = "{ca_file.resolve()}"')
    if tls_insecure:
        auth.append("tls_insecure = true")
    spec = PrometheusSpec(
        prometheus_url, "", "", selector=selector, retry_deadline=10.0, ca_file=ca_file, tls_insecure=tls_insecure,
        bearer_token=Secret("--bearer-token-env", env=bearer_token_env) if bearer_token_env else None,
        basic_auth_user=basic_auth_user, spec_file="slagate init",
        basic_auth_password=Secret("--basic-auth-password-env", env=basic_auth_password_env)
        if basic_auth_password_env else None,
    )
    with user_errors():
        found = discover(PrometheusClient(spec), selector, time.time())
    connection = starter.Connection(spec.shown_url, selector, target_url, locustfile.name, duration, tuple(auth))
    output.write_text(starter.spec_text(found, connection), encoding="utf-8")
    locustfile.write_text(starter.locustfile_text(found), encoding="utf-8")
    kind = f"{found.histogram} histogram {found.latency_histogram}"
    progress(f"init: {kind}, counter {found.request_counter} (`{found.error_label}`), route label "
             f"{found.route_label or 'none'}{f', preset {found.preset}' if found.preset else ''}")
    progress(f"init: wrote {output} and {locustfile}; next: slagate check --spec {output}")
