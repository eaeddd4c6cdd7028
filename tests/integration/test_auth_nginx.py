"""Debian's nginx as an auth proxy in front of a real Prometheus under a path prefix (/prometheus/), refusing any
request without the right bearer token, X-Scope-OrgID tenant and API key: the right settings give a verdict over a
real load of the demo target; each wrong one is one line, exit 4 or 2, before any load and never GO; and no
secret (token, API key, `user:pass@`) appears in anything the run wrote or printed."""

import base64
import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import demo_spec, needs_prometheus
from tests.integration.third_party import port_open, process, slagate_run
from validator.demo.stack import demo_stack
from validator.net import free_port

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
pytestmark = [pytest.mark.integration, needs_prometheus,
              pytest.mark.skipif(NGINX is None, reason="no nginx: apt-get install -y nginx-light (.ci/run does)")]

TOKEN = "tok-Kx93-recognisable"
API_KEY = "key-Wm27-recognisable"
URL_PASSWORD = "urlpw-Jq55-recognisable"

NGINX_CONF = """\
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {dir}/tmp; proxy_temp_path {dir}/tmp; fastcgi_temp_path {dir}/tmp;
  uwsgi_temp_path {dir}/tmp; scgi_temp_path {dir}/tmp;
  server {{
    listen 127.0.0.1:{port};
    location / {{ return 404 "nothing here: Prometheus is under /prometheus/\n"; }}
    location /prometheus/ {{
      if ($http_authorization != "Bearer {token}") {{ return 401 "bearer token missing or wrong\\n"; }}
      if ($http_x_scope_orgid != "tenant-1") {{ return 403 "X-Scope-OrgID missing or not a tenant here\\n"; }}
      if ($http_x_api_key != "{api_key}") {{ return 403 "API key missing or wrong\\n"; }}
      proxy_pass http://127.0.0.1:{upstream}/;
    }}
    location = /echo/api/v1/query_range {{
      default_type application/json;
      return 500 '{{"status":"error","errorType":"execution","error":"you sent Authorization: $http_authorization"}}';
    }}
    location /echo/ {{ proxy_pass http://127.0.0.1:{upstream}/; }}
  }}
}}
"""

RIGHT = """
bearer_token_env = "PROM_TOKEN"
headers = {{ "X-Scope-OrgID" = "tenant-1", "X-Api-Key" = {{ env = "PROM_API_KEY" }} }}
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nginx")
    (folder / "tmp").mkdir()
    port = free_port()
    with demo_stack() as demo:
        upstream = demo.prometheus.url.rsplit(":", 1)[1]
        conf = NGINX_CONF.format(dir=folder, port=port, token=TOKEN, api_key=API_KEY, upstream=upstream)
        (folder / "nginx.conf").write_text(conf)
        args = [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf")]
        with process(args, None, folder, "nginx", ready=lambda: port_open(port)):
            yield demo, f"http://127.0.0.1:{port}/prometheus"


def spec_with(tmp_path: Path, prometheus_lines: str) -> Path:
    spec = demo_spec(tmp_path, duration="8s")
    text = spec.read_text().replace("[baseline]", prometheus_lines + "\n[baseline]", 1)
    spec.write_text(text)
    return spec


def everything(output: str, run_dir: Path | None) -> bytes:
    written = b"".join(p.read_bytes() for p in run_dir.rglob("*") if p.is_file()) if run_dir else b""
    return output.encode() + written


def test_right_token_tenant_and_key_give_a_verdict_and_leak_nothing(stack, tmp_path) -> None:
    demo, url = stack
    env = {"ENDPOINT": demo.target.url, "PROMETHEUS_URL": url, "PROM_TOKEN": TOKEN, "PROM_API_KEY": API_KEY}
    code, output, run_dir = slagate_run(tmp_path, spec_with(tmp_path, RIGHT.format()), env)
    assert run_dir is not None, output
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert verdict["could_not_evaluate"] is None, output
    assert all(g["status"] != "NO_DATA" for g in verdict["gates"]), [g["reason"] for g in verdict["gates"]]
    assert code in (0, 1, 3), output
    for secret in (TOKEN, API_KEY):
        assert secret.encode() not in everything(output, run_dir), secret


def test_an_error_body_echoing_authorization_leaks_no_form_of_any_secret(stack, tmp_path) -> None:
    """The proxy answers the measurement's range queries with an error quoting the Authorization header it got
    (Basic base64 of `alice:<password>`); the target URL carries credentials too. Neither password shows, in any
    form, in anything printed or written: stderr, load.json, metrics.json, verdict.json, report.md, junit.xml, the
    step outputs and summary."""
    demo, url = stack
    password, target_password = "pw/Zx81-recognisable", "tpw-Qr64-recognisable"
    quoted = password.replace("/", "%2F")
    prometheus = url.replace("http://", f"http://alice:{quoted}@").replace("/prometheus", "/echo")
    target = demo.target.url.replace("http://", f"http://bob:{target_password}@")
    outputs, summary = tmp_path / "github_output", tmp_path / "step_summary"
    env = {"ENDPOINT": target, "PROMETHEUS_URL": prometheus, "GITHUB_OUTPUT": str(outputs),
           "GITHUB_STEP_SUMMARY": str(summary)}
    spec = spec_with(tmp_path, 'retry_deadline = "5s"')  # the echoed error is kept after 5 s of retries, not 60
    code, output, run_dir = slagate_run(tmp_path, spec, env)
    assert run_dir is not None and (run_dir / "load.json").exists(), output
    assert "you sent Authorization: Basic ***" in (run_dir / "metrics.json").read_text(), "the error was not kept"
    assert code in (1, 4) and json.loads((run_dir / "verdict.json").read_text())["decision"] == "NO-GO", output
    written = everything(output, run_dir) + outputs.read_bytes() + summary.read_bytes()
    for user, secret in (("alice", password), ("bob", target_password)):
        for form in (secret, quoted, base64.b64encode(f"{user}:{secret}".encode()).decode()):
            assert form.encode() not in written, form


@pytest.mark.parametrize(
    ("case", "lines", "env", "code", "says"),
    [
        ("wrong token", RIGHT, {"PROM_TOKEN": "tok-wrong"}, 4, "HTTP 401"),
        ("no tenant header", RIGHT.replace('"X-Scope-OrgID" = "tenant-1", ', ""), {}, 4, "X-Scope-OrgID missing"),
        ("wrong API key", RIGHT, {"PROM_API_KEY": "key-wrong"}, 4, "API key missing or wrong"),
        ("no path prefix", RIGHT, {"PROMETHEUS_URL": "strip-prefix"}, 4, "HTTP 404"),
        ("token variable unset", RIGHT, {"PROM_TOKEN": ""}, 2, "prometheus.bearer_token_env"),
        ("token file missing", RIGHT.replace('bearer_token_env = "PROM_TOKEN"', 'bearer_token_file = "none.txt"'),
         {}, 2, "prometheus.bearer_token_file"),
        ("user:pass@ in the URL beside a token", RIGHT, {"PROMETHEUS_URL": "userinfo"}, 2, "prometheus.url"),
        ("user:pass@ in the URL, no token", RIGHT.replace('bearer_token_env = "PROM_TOKEN"', ""),
         {"PROMETHEUS_URL": "userinfo"}, 4, "HTTP 401"),
    ],
)
def test_each_wrong_setting_is_one_line_before_any_load(stack, tmp_path, case, lines, env, code, says) -> None:
    demo, url = stack
    urls = {"strip-prefix": url.removesuffix("/prometheus"),
            "userinfo": url.replace("http://", f"http://alice:{URL_PASSWORD}@")}
    prometheus = urls.get(env.get("PROMETHEUS_URL", ""), url)
    base = {"ENDPOINT": demo.target.url, "PROM_TOKEN": TOKEN, "PROM_API_KEY": API_KEY}
    code_got, output, run_dir = slagate_run(tmp_path, spec_with(tmp_path, lines.format()),
                                            {**base, **env, "PROMETHEUS_URL": prometheus})
    errors = [line for line in output.splitlines() if "error:" in line]
    assert code_got == code, (case, output)
    assert len(errors) == 1 and says in errors[0], (case, output)
    print(f"{case}: exit {code_got}: {errors[0]}")  # the line a user sees, for the record
    assert "Traceback" not in output
    if run_dir is not None:
        assert not (run_dir / "load.json").exists(), "the load ran although Prometheus could not be used"
        verdict = run_dir / "verdict.json"  # a usage error (exit 2) stops before any verdict
        assert code == 2 or json.loads(verdict.read_text())["decision"] != "GO"
    for secret in (TOKEN, API_KEY, URL_PASSWORD):
        assert secret.encode() not in everything(output, run_dir), (case, secret)


@pytest.mark.parametrize(
    ("old", "new", "key", "says"),
    [
        # refused at spec load, with no network: a selector is label matchers and nothing else
        ("selector = 'job=\"demo\"'", "selector = 'job=\"demo\",,'", "prometheus.selector", "stops being one at ','"),
        ('error_regex = "5.."', 'error_regex = "5(.."', "prometheus.error_regex", "missing closing )"),
    ],
)
def test_promql_the_spec_gets_wrong_is_exit_2_quoting_prometheus(stack, tmp_path, old, new, key, says) -> None:
    demo, url = stack
    spec = spec_with(tmp_path, RIGHT.format())
    assert old in spec.read_text()
    spec.write_text(spec.read_text().replace(old, new))
    env = {"ENDPOINT": demo.target.url, "PROMETHEUS_URL": url, "PROM_TOKEN": TOKEN, "PROM_API_KEY": API_KEY}
    code, output, run_dir = slagate_run(tmp_path, spec, env)
    errors = [line for line in output.splitlines() if "error:" in line]
    assert code == 2 and len(errors) == 1, output
    assert key in errors[0] and says in errors[0], errors[0]
    assert ("Prometheus said" in errors[0]) == (key == "prometheus.error_regex"), errors[0]
    assert run_dir is None or not (run_dir / "load.json").exists()
