"""Hostile strings from a real target, through a real run, into every output; and the charts beside the report.

A tiny HTTP app in this test answers some requests with 500 and a body full of Markdown, HTML and control
characters; the locustfile turns that body into the failure message and gives its routes hostile names; the spec
names a gate and the version with the same characters. A real Locust load (5 s) runs against it, the demo stack's
real Prometheus is queried, and every file the run writes is checked.
"""

import json
import os
import re
import subprocess
import sys
import threading
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import demo_spec, needs_prometheus
from validator.demo.stack import demo_stack
from validator.demo.target import DemoSettings

pytestmark = [pytest.mark.integration, needs_prometheus]

HOSTILE = "x|y `tick` ``two`` <script>alert(1)</script>\n# injected heading\n[link](http://evil) \x1b[31m$m^2$"
LOCUSTFILE = '''
from locust import FastHttpUser, constant, task

ROUTE = "GET /ok|`route` <script>r</script>"


class Hostile(FastHttpUser):
    wait_time = constant(0.02)

    @task(3)
    def ok(self):
        self.client.get("/ok", name=ROUTE)

    @task(1)
    def boom(self):
        with self.client.get("/boom", name="GET /boom\\n| `b` |", catch_response=True) as response:
            response.failure(response.text)  # the target's own error text
'''


class HostileHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        status, body = (500, HOSTILE) if self.path.startswith("/boom") else (200, "ok")
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def hostile_target() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), HostileHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`).*?(?<!`)\1(?!`)")


def check_markdown(path: Path) -> None:
    text = path.read_text()
    assert "\x1b" not in text and "\x00" not in text, path.name
    outside_code = CODE_SPAN.sub("", text)  # inside a code span the text is shown, never acted on
    assert "<script>" not in outside_code and "[link](http://evil)" not in outside_code, path.name
    assert not any(line.startswith("# injected") for line in text.splitlines()), path.name
    table: list[str] = []
    for line in [*text.splitlines(), ""]:  # every row of a table has as many cells as its header
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            assert {unescaped_pipes(row) for row in table} == {unescaped_pipes(table[0])}, (path.name, table)
        table = []


def test_hostile_strings_reach_every_output_escaped(tmp_path: Path, hostile_target: str) -> None:
    locustfile = tmp_path / "hostile_locustfile.py"
    locustfile.write_text(LOCUSTFILE)
    gate = f"""
[[gates]]
name = {json.dumps("gate | `g` <script>s</script>")}
metric = "latency_p50"
severity = "warning"
max = "1s"
"""
    spec = demo_spec(tmp_path, extra=gate, duration="6s", locustfile=locustfile)
    text = spec.read_text()  # (a version must be a path-safe name: it is refused at spec load, not escaped)
    spec.write_text(re.sub(r"(?m)^file = .*1\.0\.0\.json.*$", "", text))  # no baseline: another scenario's load
    reports = tmp_path / "reports"
    with demo_stack(DemoSettings()) as stack:
        env = {**os.environ, "ENDPOINT": hostile_target, "PROMETHEUS_URL": stack.prometheus.url}
        command = [sys.executable, "-m", "validator.cli", "run", "--spec", str(spec), "--reports-dir", str(reports)]
        completed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert "Traceback" not in completed.stderr, completed.stderr
    (run_dir,) = [p for p in reports.iterdir() if p.is_dir()]
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert verdict["decision"] != "GO" and completed.returncode == verdict["exit_code"]
    load = json.loads((run_dir / "load.json").read_text())
    samples = [group["sample"] for group in load["errors"]]  # Locust keeps the failure's repr
    assert any("<script>alert(1)</script>" in s and "# injected heading" in s for s in samples), samples

    report = (run_dir / "report.md").read_text()
    assert "&lt;script&gt;" in report and "GET /ok" in report
    for name in ("report.md", "checklist.md"):
        check_markdown(run_dir / name)
    ElementTree.parse(run_dir / "junit.xml")  # well-formed XML whatever the strings
    for line in (reports / "history.jsonl").read_text().splitlines():
        assert json.loads(line)["version"] == "1.1.0"
    charts = sorted(p.name for p in run_dir.glob("chart-*.png"))
    assert charts == ["chart-errors.png", "chart-latency.png", "chart-routes.png", "chart-timeline.png"]
    assert all((run_dir / name).stat().st_size > 5_000 for name in charts)
    for chart in charts:
        assert f"]({chart})" in report  # linked relatively from the report
    assert "## Analysis" in report and "## Decision" in report and "| ▶ |" in report
