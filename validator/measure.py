"""The measure stage: Prometheus queried over a load's steady window, written as `metrics.json`."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from validator.artifacts import SCHEMA_VERSIONS, read_json, write_json
from validator.baseline import pool_runs
from validator.evidence import Measurement, QuantileEvidence
from validator.load.result import LoadResult
from validator.metrics import BUILTIN_METRICS
from validator.prometheus import PrometheusSource, PrometheusUnavailable, Window
from validator.spec import Spec

METRICS_FILE = "metrics.json"


@dataclass
class MetricsRecord:
    """The artifact of the measure stage: every figure, every query, or why nothing could be measured."""

    prometheus_url: str
    window: Window
    measurements: dict[str, Measurement] = field(default_factory=dict)
    queries: list[dict[str, Any]] = field(default_factory=list)
    could_not_evaluate: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSIONS["metrics"],
            "prometheus_url": self.prometheus_url,
            "window": {"start": self.window.start, "end": self.window.end, "seconds": self.window.seconds},
            "could_not_evaluate": self.could_not_evaluate,
            "measurements": {name: m.to_dict() for name, m in self.measurements.items()},
            "queries": self.queries,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "MetricsRecord":
        return cls(
            prometheus_url=data["prometheus_url"],
            window=Window(data["window"]["start"], data["window"]["end"]),
            measurements={name: Measurement.from_dict(m) for name, m in data["measurements"].items()},
            queries=data.get("queries", []),
            could_not_evaluate=data.get("could_not_evaluate"),
        )

    def write(self, run_dir: Path) -> Path:
        return write_json(run_dir / METRICS_FILE, self.to_dict(), indent=1)

    @classmethod
    def read(cls, run_dir: Path) -> "MetricsRecord":
        """The record in run_dir/metrics.json, schema-checked (ArtifactError when it is not one)."""
        return cls.from_dict(read_json(run_dir / METRICS_FILE, "metrics"))

    def server_quantiles(self) -> dict[float, float | None]:
        """The server's own latency quantiles (seconds) by probability, None where not measured."""
        figures: dict[float, float | None] = {}
        for name, measurement in self.measurements.items():
            definition = BUILTIN_METRICS.get(name)
            if definition is not None and definition.quantile is not None:
                evidence = measurement.evidence
                figures[definition.quantile] = evidence.estimate() if isinstance(evidence, QuantileEvidence) else None
        return figures


def measure(spec: Spec, load: LoadResult, wait_for_scrape: bool = True) -> MetricsRecord:
    """Query Prometheus over the load's steady window; an unreachable server is recorded, not raised."""
    window = Window(load.window_start, load.window_end)
    record = MetricsRecord(spec.prometheus.url, window)
    source: PrometheusSource | None = None
    try:
        source = PrometheusSource(spec.prometheus)
        if wait_for_scrape:
            source.wait_for_scrape_after(window.end)
        record.measurements = source.measure(window, spec.gates)
    except PrometheusUnavailable as error:
        record.could_not_evaluate = str(error)
    if source is not None:
        record.queries = source.log.entries
    return record


def pool_records(records: list[MetricsRecord]) -> MetricsRecord:
    """Repeated runs of one candidate as one record: each metric's evidence pooled (every run's windows kept,
    so the gates judge the runs as units), every query kept, the window spanning all runs."""
    if len(records) == 1:
        return records[0]
    failed = next((r.could_not_evaluate for r in records if r.could_not_evaluate), None)
    window = Window(records[0].window.start, records[-1].window.end)
    pooled = MetricsRecord(records[0].prometheus_url, window, could_not_evaluate=failed)
    pooled.measurements = pool_runs([r.measurements for r in records])
    pooled.queries = [query for r in records for query in r.queries]
    return pooled
