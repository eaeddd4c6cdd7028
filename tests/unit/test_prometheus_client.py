"""The Prometheus HTTP client against a real HTTP server on 127.0.0.1: credentials, headers, path prefix, retries
under the deadline, Retry-After, warnings, error text, and secrets kept out of every message."""

import json
import time
from dataclasses import replace

import pytest

from tests.unit.answering_prometheus import Rule, answering, error, success
from validator.errors import UsageError
from validator.prometheus import PrometheusClient, PrometheusUnavailable, QueryFailed
from validator.spec.prometheus import Header, PrometheusSpec, Secret

ONE = [{"metric": {}, "value": [1.0, "1"]}]


def spec(url: str, **changes) -> PrometheusSpec:
    return replace(PrometheusSpec(url, "h", "c", retry_deadline=5.0, timeout=2.0), **changes)


def client(url: str, environ=None, **changes) -> PrometheusClient:
    return PrometheusClient(spec(url, **changes), environ or {}, sleep=lambda s: None)


def test_bearer_token_tenant_header_and_path_prefix_reach_the_server() -> None:
    headers = (Header("X-Scope-OrgID", value="tenant-1"), Header("X-Api-Key", secret=Secret("k", env="KEY")))
    with answering([Rule("vector", success(ONE))], prefix="/prometheus") as server:
        c = client(server.url + "/", {"TOKEN": "tok-123", "KEY": "key-456"}, headers=headers,
                   bearer_token=Secret("prometheus.bearer_token_env", env="TOKEN"))
        assert c.instant("q", "vector(1)", 1.0) == ONE
    seen = server.seen[0]
    assert seen.path == "/prometheus/api/v1/query"
    assert seen.headers["Authorization"] == "Bearer tok-123"
    assert seen.headers["X-Scope-OrgID"] == "tenant-1" and seen.headers["X-Api-Key"] == "key-456"


def test_basic_auth_from_a_file_and_from_the_url(tmp_path) -> None:
    (tmp_path / "pw").write_text("s3cret-pw\n")
    with answering([Rule("vector", success(ONE))]) as server:
        client(server.url, basic_auth_user="u", basic_auth_password=Secret("k", file=tmp_path / "pw")).instant(
            "q", "vector(1)", 1.0)
        with_userinfo = server.url.replace("http://", "http://alice:pa%40ss@")
        c = client(with_userinfo)
        c.instant("q", "vector(1)", 1.0)
    assert server.seen[0].headers["Authorization"].startswith("Basic ")
    assert "pa@ss" not in c.clean(f"x {with_userinfo} pa@ss pa%40ss")


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"bearer_token": Secret("prometheus.bearer_token_env", env="NOPE")}, "prometheus.bearer_token_env"),
        ({"bearer_token": Secret("prometheus.bearer_token_file", file="/nonexistent/t")},
         "prometheus.bearer_token_file"),
        ({"headers": (Header("X-Scope-OrgID", secret=Secret("prometheus.headers.X-Scope-OrgID", env="NOPE")),)},
         "prometheus.headers.X-Scope-OrgID"),
        ({"ca_file": "/nonexistent/ca.pem"}, "prometheus.ca_file"),
    ],
)
def test_a_missing_credential_is_a_usage_error_naming_the_key(changes, key) -> None:
    with pytest.raises(UsageError, match=key.replace(".", r"\.")) as raised:
        PrometheusClient(spec("http://127.0.0.1:1", **changes), {})
    assert "\n" not in str(raised.value)


def test_503_then_success_is_retried_logged_and_warnings_kept() -> None:
    rules = [Rule("vector", error("unavailable", "busy"), status=503, times=2),
             Rule("vector", success(ONE, warnings=["partial response: store down"]))]
    with answering(rules) as server:
        c = client(server.url)
        assert c.instant("q", "vector(1)", 1.0) == ONE
    entry = c.log.entries[-1]
    assert [r["attempt"] for r in entry["retries"]] == [1, 2]
    assert "HTTP 503" in entry["retries"][0]["error"] and "busy" in entry["retries"][0]["error"]
    assert entry["warnings"] == ["partial response: store down"]
    json.dumps(c.log.entries)


def test_429_honours_retry_after() -> None:
    waits = []
    rules = [Rule("vector", "slow down", status=429, headers={"Retry-After": "2"}, times=1),
             Rule("vector", success(ONE))]
    with answering(rules) as server:
        c = PrometheusClient(spec(server.url), {}, sleep=waits.append)
        c.instant("q", "vector(1)", 1.0)
    assert waits and waits[0] >= 2.0


def test_a_parse_error_is_not_retried_and_quotes_prometheus() -> None:
    text = 'parse error: unexpected "}" in label matching'
    with answering([Rule("count", error("bad_data", text), status=400)]) as server:
        c = client(server.url)
        with pytest.raises(QueryFailed) as raised:
            c.instant("check", "count(c{a=})", 1.0)
    assert len(server.seen) == 1
    assert raised.value.prometheus_error == text and "check" in str(raised.value) and "HTTP 400" in str(raised.value)


def test_retries_stop_at_the_deadline_in_bounded_time() -> None:
    with answering([Rule("vector", error("unavailable", "overloaded"), status=503)]) as server:
        c = PrometheusClient(spec(server.url, retry_deadline=1.5), {})
        started = time.monotonic()
        with pytest.raises(PrometheusUnavailable, match="overloaded.*retry_deadline 1.5 s"):
            c.instant("q", "vector(1)", 1.0)
    assert time.monotonic() - started < 4.0
    assert len(c.log.entries[-1]["retries"]) >= 1


def test_a_refusal_names_the_query_and_the_proxy_text_without_the_secret() -> None:
    with answering([Rule("vector", "<html><h1>401 Authorization Required</h1></html>", status=401)]) as server:
        c = client(server.url, {"TOKEN": "tok-SECRET-9"}, bearer_token=Secret("k", env="TOKEN"))
        with pytest.raises(PrometheusUnavailable) as raised:
            c.instant("preflight", "vector(1)", 1.0)
    message = str(raised.value)
    assert "preflight" in message and "HTTP 401" in message and "Authorization Required" in message
    assert "\n" not in message and "tok-SECRET-9" not in message and len(server.seen) == 1


def test_nothing_listening_is_unavailable_with_one_line() -> None:
    c = PrometheusClient(spec("http://user:pw-SECRET@127.0.0.1:1", retry_deadline=0.5), {})
    with pytest.raises(PrometheusUnavailable) as raised:
        c.instant("preflight", "vector(1)", 1.0)
    message = str(raised.value)
    assert "Connection refused" in message and "pw-SECRET" not in message and "\n" not in message
    assert "pw-SECRET" not in json.dumps(c.log.entries)


def test_the_standard_proxy_variables_are_honoured(monkeypatch) -> None:
    with answering([Rule("vector", success(ONE))]) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        c = client("http://prometheus.invalid:9090/prefix")
        assert c.instant("q", "vector(1)", 1.0) == ONE
    assert proxy.seen[0].path == "/prefix/api/v1/query"  # the proxy got the absolute URL of the real server


def test_tls_insecure_warnings_and_retries_are_said_in_the_report() -> None:
    from validator.measure.record import MetricsRecord
    from validator.prometheus import Window
    from validator.report.routes import routes_section

    queries = [{"name": "latency buckets", "query": "x", "time": 1.0, "error": None, "warnings": ["partial data"],
                "retries": [{"attempt": 1, "error": "HTTP 503", "wait_s": 0.5}]}]
    record = MetricsRecord("https://p", Window(0.0, 1.0), queries=queries, tls_insecure=True)
    notes = routes_section([], None, record)["prometheus_notes"]
    assert any("not verified" in n for n in notes) and any("partial data" in n for n in notes)
    assert any("retried 1 time(s)" in n for n in notes)


@pytest.mark.parametrize("url", ["prometheus:9090", "ftp://host/", "http://:9090", "http://host:port/"])
def test_a_url_that_is_not_http_is_a_usage_error(url) -> None:
    with pytest.raises(UsageError, match="prometheus.url"):
        PrometheusClient(spec(url), {})
