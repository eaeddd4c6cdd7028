"""A FastAPI service (uvicorn + prometheus-fastapi-instrumentator, default buckets) scraped by a real Prometheus
that serves TLS with a CA made here and requires basic auth (`--web.config.file`): the 15-line spec of
examples/fastapi-instrumentator gets a truthful verdict; a wrong password, an unknown CA and a missing password
variable each stop the run with one line, exit 4 or 2, before any load and never GO."""

import shutil

import pytest

from tests.conftest import needs_prometheus
from tests.integration.third_party import (
    EXAMPLES,
    bcrypt_hash,
    gates_of,
    make_ca,
    make_client_cert,
    make_server_cert,
    prometheus,
    python_app,
    slagate_run,
    wait_scraped,
)

pytestmark = [pytest.mark.integration, needs_prometheus,
              pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl CLI to make certificates")]

PASSWORD = "pw-Zq8-recognisable"

SPEC = """\
gates = [{{ metric = "latency_p99", max = "250ms" }}, {{ metric = "success_rate", min = "99%" }},
  {{ name = "p95 (client)", metric = "latency_p95", max = "250ms", source = "client" }},
  {{ name = "checkout p99", metric = "latency_p99", route = "/api/checkout", max = "300ms", source = "both" }}]
service = {{ name = "shop" }}
target = {{ url = "{target}" }}
load = {{ locustfile = "locustfile.py", duration = "10s", warmup = "2s" }}
[prometheus]
url = "{prometheus}"
preset = "fastapi-instrumentator"
{auth}
"""
AUTH = 'basic_auth_user = "slagate"\nbasic_auth_password_env = "PROM_PASSWORD"\nca_file = "{ca}"'


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    make_ca(folder, "good")
    make_ca(folder, "other")
    make_server_cert(folder, "good")
    make_client_cert(folder, "good", "client")
    make_client_cert(folder, "other", "stranger")
    web = {"tls_server_config": {"cert_file": str(folder / "server.pem"), "key_file": str(folder / "server.key"),
                                 "client_auth_type": "VerifyClientCertIfGiven",
                                 "client_ca_file": str(folder / "good-ca.pem")},
           "basic_auth_users": {"slagate": bcrypt_hash(PASSWORD)}}
    with python_app(folder, "fastapi-instrumentator", "uvicorn") as target, \
            prometheus(folder, target, "shop", web) as port:
        url = f"https://127.0.0.1:{port}"
        wait_scraped(url, auth=("slagate", PASSWORD), verify=str(folder / "good-ca.pem"))
        yield folder, target, url


def write(folder, target, url, auth, name="sla.toml"):
    shutil.copy(EXAMPLES / "fastapi-instrumentator/locustfile.py", folder / "locustfile.py")
    path = folder / name
    path.write_text(SPEC.format(target=target, prometheus=url, auth=auth))
    return path


def test_right_settings_give_a_truthful_verdict(stack, tmp_path) -> None:
    folder, target, url = stack
    spec = write(tmp_path, target, url, AUTH.format(ca=folder / "good-ca.pem"))
    assert len(spec.read_text().splitlines()) <= 15
    code, output, run_dir = slagate_run(tmp_path, spec, {"PROM_PASSWORD": PASSWORD})
    assert run_dir is not None, output
    gates = gates_of(run_dir)
    # Default buckets 0.1, 0.5, 1 s: the server's p99 lies in 100 ms-500 ms, which holds the 250 ms bound.
    assert gates["latency_p99"]["status"] == "WARN", gates["latency_p99"]["reason"]
    assert "coarse buckets" in gates["latency_p99"]["reason"]
    assert gates["latency_p99"]["resolution"]["recommended"]
    assert gates["success_rate"]["status"] == "PASS", gates["success_rate"]["reason"]
    assert gates["p95 (client)"]["status"] == "PASS" and gates["p95 (client)"]["judged_on"] == "client"
    assert code == 3, output  # CAUTION: never GO on a gate the buckets cannot decide
    report = (run_dir / "report.md").read_text()
    assert "Recommended bucket boundaries" in report
    written = b"".join(p.read_bytes() for p in run_dir.rglob("*") if p.is_file())
    assert PASSWORD not in output and PASSWORD.encode() not in written


@pytest.mark.parametrize(
    ("case", "auth", "env", "code", "says"),
    [
        ("wrong password", AUTH, {"PROM_PASSWORD": "not-it"}, 4, "HTTP 401"),
        ("unknown CA", AUTH.replace("{ca}", "{other}"), {"PROM_PASSWORD": PASSWORD}, 4, "TLS failed"),
        ("no CA at all", 'basic_auth_user = "slagate"\nbasic_auth_password_env = "PROM_PASSWORD"',
         {"PROM_PASSWORD": PASSWORD}, 4, "certificate verify failed"),
        ("password variable unset", AUTH, {}, 2, "prometheus.basic_auth_password_env"),
    ],
)
def test_each_wrong_setting_is_one_line_before_any_load(stack, tmp_path, case, auth, env, code, says) -> None:
    folder, target, url = stack
    auth = auth.replace("{ca}", str(folder / "good-ca.pem")).replace("{other}", str(folder / "other-ca.pem"))
    spec = write(tmp_path, target, url, auth)
    got, output, run_dir = slagate_run(tmp_path, spec, {"PROM_PASSWORD": "", **env})
    errors = [line for line in output.splitlines() if "error:" in line]
    assert got == code, (case, output)
    assert len(errors) == 1 and says in errors[0], (case, output)
    print(f"{case}: exit {got}: {errors[0]}")  # the line a user sees, for the record
    assert "Traceback" not in output and PASSWORD not in output
    if run_dir is not None:
        assert not (run_dir / "load.json").exists() or "GO" != gates_of(run_dir)


def test_tls_insecure_reaches_it_without_the_ca(stack) -> None:
    from validator.prometheus import PrometheusClient
    from validator.spec.prometheus import PrometheusSpec, Secret

    folder, _, url = stack
    spec = PrometheusSpec(url, "h", "c", basic_auth_user="slagate", tls_insecure=True,
                          basic_auth_password=Secret("prometheus.basic_auth_password_env", env="PROM_PASSWORD"))
    answer = PrometheusClient(spec, {"PROM_PASSWORD": PASSWORD}).instant("q", "vector(1)", 0.0)
    assert answer[0]["value"][1] == "1"


@pytest.mark.parametrize(("name", "accepted"), [("client", True), ("stranger", False)])
def test_a_client_certificate_is_presented(stack, name, accepted) -> None:
    from validator.prometheus import PrometheusClient, PrometheusUnavailable
    from validator.spec.prometheus import PrometheusSpec, Secret

    folder, _, url = stack
    spec = PrometheusSpec(url, "h", "c", basic_auth_user="slagate", ca_file=folder / "good-ca.pem",
                          client_cert_file=folder / f"{name}.pem", client_key_file=folder / f"{name}.key",
                          basic_auth_password=Secret("prometheus.basic_auth_password_env", env="PROM_PASSWORD"),
                          retry_deadline=1.0)
    client = PrometheusClient(spec, {"PROM_PASSWORD": PASSWORD})
    if accepted:
        assert client.instant("q", "vector(1)", 0.0)[0]["value"][1] == "1"
    else:  # a certificate from a CA Prometheus does not trust is refused in the TLS handshake
        with pytest.raises(PrometheusUnavailable, match="query 'q'"):
            client.instant("q", "vector(1)", 0.0)
