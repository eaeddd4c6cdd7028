"""A Flask service under waitress instrumented by prometheus-flask-exporter with prometheus_client's default
buckets, scraped by a real Prometheus, judged end to end with examples/flask-exporter/sla.toml (preset
flask-exporter): the p95 bound falls inside the 50-75 ms bucket, so that gate is WARN with the bucket, the bound
and the boundaries that would resolve it (never GO); the per-route gate and the success rate PASS."""

import json
import shutil

import pytest

from tests.conftest import needs_prometheus
from tests.integration.third_party import EXAMPLES, gates_of, prometheus, python_app, slagate_run, wait_scraped

pytestmark = [pytest.mark.integration, needs_prometheus]


def test_flask_exporter_default_buckets_judged_end_to_end(tmp_path) -> None:
    shutil.copy(EXAMPLES / "flask-exporter/locustfile.py", tmp_path / "locustfile.py")
    spec = tmp_path / "sla.toml"
    text = (EXAMPLES / "flask-exporter/sla.toml").read_text()
    text = text.replace('scrape_interval = "15s"', 'scrape_interval = "1s"')
    text = text.replace('locustfile = "locustfile.py"', 'locustfile = "locustfile.py"\nduration = "10s"\nwarmup = "2s"')
    spec.write_text(text)
    with python_app(tmp_path, "flask-exporter", "waitress") as target, \
            prometheus(tmp_path, target, "reports") as port:
        url = f"http://127.0.0.1:{port}"
        wait_scraped(url)
        code, output, run_dir = slagate_run(tmp_path, spec, {"ENDPOINT": target, "PROMETHEUS_URL": url})
    assert run_dir is not None, output
    gates = gates_of(run_dir)
    p95 = gates["latency_p95"]
    assert p95["status"] == "WARN" and "coarse buckets" in p95["reason"], p95["reason"]
    assert p95["resolution"]["bucket_low"] == pytest.approx(0.05) and p95["resolution"]["bucket_high"] == 0.075
    assert gates["report p95"]["status"] == "PASS", gates["report p95"]["reason"]
    assert gates["success_rate"]["status"] == "PASS", gates["success_rate"]["reason"]
    assert "`status` values seen: 200" in gates["success_rate"]["source"]
    assert code == 3, output
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["scope"]["series"] and metrics["scope"]["targets"] == [["reports", target.split("//")[1]]]
