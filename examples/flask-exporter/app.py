"""A Flask service instrumented by prometheus-flask-exporter with its defaults (run: waitress-serve app:app)."""

import random
import time

from flask import Flask
from prometheus_flask_exporter import PrometheusMetrics

app = Flask(__name__)
metrics = PrometheusMetrics(app)  # /metrics; prometheus_client's default buckets (5 ms … 10 s)


@app.get("/api/items")
def items() -> dict[str, bool]:
    time.sleep(random.uniform(0.010, 0.030))
    return {"ok": True}


@app.get("/api/report")
def report() -> dict[str, bool]:
    time.sleep(random.uniform(0.040, 0.060))
    return {"ok": True}
