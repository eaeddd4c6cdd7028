"""The measure stage: Prometheus queried over a load's steady window, written as `metrics.json`."""

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from validator.artifacts import SCHEMA_VERSIONS, read_as, write_json
from validator.baseline.file import pool_runs
from validator.evidence import Measurement, ProportionEvidence, QuantileEvidence, RateEvidence, checked
from validator.load.result import LoadResult
from validator.measure.checks import ServerQuantile
from validator.measure.client_figures import client_key, client_measurements
from validator.measure.reconciliation import ServerCounts
from validator.prometheus import PrometheusSource, PrometheusUnavailable, Window
from validator.spec import GateSpec, Spec
from validator.spec.metrics import BUILTIN_METRICS
from validator.timing import Phase, Phases

METRICS_FILE = "metrics.json"


@dataclass(frozen=True)
class MetricsRecord:
    """The artifact of the measure stage: every figure, every query, or why nothing could be measured. Frozen: a
    later stage that adds to it (client figures, a stop, the looks) makes a new record."""

    prometheus_url: str
    window: Window
    measurements: dict[str, Measurement] = field(default_factory=dict)
    queries: list[dict[str, Any]] = field(default_factory=list)
    could_not_evaluate: str | None = None
    scope: dict[str, Any] = field(default_factory=dict)  # what the selector matched (validator/prometheus/scope.py)
    tls_insecure: bool = False  # Prometheus's certificate was not verified
    routes: dict[str, dict[str, float | None]] = field(default_factory=dict)  # route → requests, p50/p95/p99 (s)
    incomplete: str | None = None  # a signal stopped the run before this record was complete: where
    looks: list[dict[str, Any]] = field(default_factory=list)  # repeat = "auto": each look's runs, level, step

    def to_dict(self) -> dict[str, Any]:
        looks = {"looks": self.looks} if self.looks else {}
        return {
            "schema_version": SCHEMA_VERSIONS["metrics"],
            "prometheus_url": self.prometheus_url,
            "window": {"start": self.window.start, "end": self.window.end, "seconds": self.window.seconds},
            "could_not_evaluate": self.could_not_evaluate,
            "incomplete": self.incomplete,
            "measurements": {name: m.to_dict() for name, m in self.measurements.items()},
            "queries": self.queries,
            "scope": self.scope,
            "tls_insecure": self.tls_insecure,
            "routes": self.routes,
            **looks,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "MetricsRecord":
        return cls(
            prometheus_url=data["prometheus_url"],
            window=Window(data["window"]["start"], data["window"]["end"]),
            measurements=checked({name: Measurement.from_dict(m) for name, m in data["measurements"].items()},
                                 "measurements"),
            queries=data.get("queries", []),
            could_not_evaluate=data.get("could_not_evaluate"),
            incomplete=data.get("incomplete"),
            scope=data.get("scope") or {},
            tls_insecure=bool(data.get("tls_insecure", False)),
            routes=data.get("routes") or {},
            looks=data.get("looks") or [],
        )

    def write(self, run_dir: Path) -> Path:
        return write_json(run_dir / METRICS_FILE, self.to_dict(), indent=1)

    @classmethod
    def read(cls, run_dir: Path) -> "MetricsRecord":
        """The record in run_dir/metrics.json, schema-checked (ArtifactError when it is not one)."""
        return read_as(run_dir / METRICS_FILE, "metrics", cls.from_dict)

    def server_quantiles(self) -> dict[float, ServerQuantile | None]:
        """The server's own latency quantiles over all traffic by probability, each with the edges of the bucket
        it was interpolated in (seconds); None where not measured."""
        figures: dict[float, ServerQuantile | None] = {}
        for name, measurement in self.measurements.items():
            definition = BUILTIN_METRICS.get(name)
            if definition is not None and definition.quantile is not None:
                evidence = measurement.evidence
                figures[definition.quantile] = (
                    ServerQuantile.of(evidence) if isinstance(evidence, QuantileEvidence) else None
                )
        return figures


    def server_counts(self, scrape_interval: float) -> ServerCounts | None:
        """What Prometheus counted over all traffic in the window, for the client to reconcile; None when the
        request count was not measured."""
        throughput, success = self.measurements.get("throughput"), self.measurements.get("success_rate")
        if throughput is None or not isinstance(throughput.evidence, RateEvidence) or "error_label" not in self.scope:
            return None
        proportion = success.evidence if success is not None else None
        errors = proportion.total - proportion.successes if isinstance(proportion, ProportionEvidence) else None
        return ServerCounts(
            requests=throughput.evidence.count,
            errors=errors,
            values=self.scope.get("error_label_values") or {},
            error_values=self.scope.get("error_values"),
            unlabelled=float(self.scope.get("unlabelled_requests") or 0.0),
            error_label=self.scope["error_label"],
            error_regex=self.scope["error_regex"],
            selector=self.scope.get("selector") or "",
            counter=self.scope.get("counter") or "",
            scrape_interval=scrape_interval,
        )


def measure(
    spec: Spec, load: LoadResult, wait_for_scrape: bool = True, phases: Phases | None = None
) -> MetricsRecord:
    """Query Prometheus over the load's steady window, plus the client figures gates ask for; an unusable server
    is recorded, not raised. `phases` times the wait for the scrape after the window."""
    window = Window(load.window_start, load.window_end)
    source = PrometheusSource(spec.prometheus)  # a missing credential is a UsageError here, before any query
    measurements: dict[str, Measurement] = {}
    unusable = None
    try:
        if wait_for_scrape:
            with (phases or Phases()).phase(Phase.SCRAPE_WAIT):
                source.wait_for_scrape_after(window.end)
        measurements = source.measure(window, spec.gates)
    except PrometheusUnavailable as error:
        unusable = str(error)
    return MetricsRecord(
        spec.prometheus.shown_url, window, measurements={**measurements, **client_measurements(load, spec.gates)},
        queries=source.log.entries, could_not_evaluate=unusable, scope=source.scope,
        tls_insecure=spec.prometheus.tls_insecure, routes=source.routes, incomplete=interruption(load),
    )


def missing_client_gates(record: MetricsRecord, spec: Spec) -> list[GateSpec]:
    """Gates that ask for a client figure the record lacks (e.g. switched to source "client" after measuring)."""
    gates = [gate for gate in spec.gates if gate.source != "server" and not gate.is_custom]
    return [gate for gate in gates if client_key(gate) not in record.measurements]


def with_client_figures(record: MetricsRecord, loads: list[LoadResult], gates: list[GateSpec]) -> MetricsRecord:
    """`record` with the client figures of `gates` added from its runs' load results (pooled like the runs),
    which hold everything they need: no Prometheus."""
    if not gates or not loads:
        return record
    added = pool_runs([client_measurements(load, gates) for load in loads])
    return dataclasses.replace(record, measurements={**record.measurements, **added})


def pool_records(records: list[MetricsRecord]) -> MetricsRecord:
    """Repeated runs of one candidate as one record: each metric's evidence pooled (every run's windows kept,
    so the gates judge the runs as units), every query kept, the window spanning all runs."""
    if len(records) == 1:
        return records[0]
    failed = next((r.could_not_evaluate for r in records if r.could_not_evaluate), None)
    stopped = next((r.incomplete for r in records if r.incomplete), None)
    window = Window(records[0].window.start, records[-1].window.end)
    return MetricsRecord(
        records[0].prometheus_url, window, measurements=pool_runs([r.measurements for r in records]),
        queries=[query for r in records for query in r.queries], could_not_evaluate=failed, scope=records[-1].scope,
        tls_insecure=records[0].tls_insecure, routes=records[-1].routes, incomplete=stopped,
    )


def interruption(load: LoadResult) -> str | None:
    """Where a signal stopped this load, or None when it ran its whole duration."""
    stop = load.interrupted
    if stop is None:
        return None
    return (
        f"stopped by {stop['signal']} during the {stop['stage']} after {stop['at_s']:.1f} s of {stop['of_s']:g} s; "
        "the figures cover only the steady seconds before it"
    )
