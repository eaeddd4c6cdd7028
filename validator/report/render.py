"""Render a judged run: `report.md` for release managers (Jinja2) and `verdict.json` for machines.

Formatting only: every number comes from the gate results, the measurements, the load result or
the baseline, and each is shown with its source, or as missing.
"""

import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

from validator import __version__
from validator.artifacts import SCHEMA_VERSIONS, VERDICT_FILE, write_json, write_text
from validator.canary.criteria_words import criterion_document, rollback_sentence
from validator.canary.live_promql import criterion_expr, duration
from validator.errors import InputFileError
from validator.evidence import Change
from validator.judge.gates import CheckKind, GateResult
from validator.judge.judgement import Judgement, ShapeObservation
from validator.judge.rollback import Criterion
from validator.judge.run import RunArtifacts
from validator.load.result import LoadResult
from validator.measure.checks import MeasurementChecks
from validator.report import ci_outputs
from validator.report.baseline_words import baseline_facts
from validator.report.checklist import CHECKLIST_FILE
from validator.report.console import verdict_summary
from validator.report.decision import plan_line, rollout_document, waivers_document
from validator.report.errors_table import error_rows
from validator.report.judgement_words import change_text, fail_level_sentence, shape_sentence
from validator.report.junit import JUNIT_FILE, junit_xml
from validator.report.looks import looks_document, looks_lines, runs_needed_document, runs_needed_sentence
from validator.report.markdown import cell, code, utc
from validator.report.measurement import measurement_section
from validator.report.methods import describe, method_parameters
from validator.report.routes import routes_section
from validator.report.sections import release_sections, write_checklist
from validator.spec import Spec
from validator.spec.units import format_seconds, format_value
from validator.stats.intervals import interval_level
from validator.timing import Phases

REPORT_FILE = "report.md"
CLIENT_QUANTILES = (0.5, 0.95, 0.99)

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("validator.report", "templates"),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,  # Markdown, not HTML; cell text is escaped by markdown.cell
)


@dataclass(frozen=True)
class Written:
    """The report's path, the verdict document, and the checklist template's failure when it failed while rendering
    (the caller raises it once the run is recorded: the verdict and the report are written either way)."""

    report: Path
    document: dict[str, Any]
    checklist_failed: InputFileError | None = None


def write_reports(artifacts: RunArtifacts, phases: Phases | None = None) -> Written:
    """Write junit.xml, report.md and, last, verdict.json into the run directory (each atomically): a reader that
    finds verdict.json finds the whole run. `phases` times the charts."""
    document = verdict_document(artifacts)
    write_text(artifacts.run_dir / JUNIT_FILE, junit_xml(document, artifacts.run_dir.name))
    extras = release_sections(artifacts, rollback_texts(artifacts), phases)
    checklist_failed = extras.pop("checklist_failed")
    report = write_text(artifacts.run_dir / REPORT_FILE, render_markdown(artifacts, extras))
    write_json(artifacts.run_dir / VERDICT_FILE, document, indent=1)
    return Written(report, document, checklist_failed)


def publish(written: Written) -> None:
    """Hand the verdict to the CI system when it asks (GitHub Actions' GITHUB_OUTPUT, GITHUB_STEP_SUMMARY)."""
    ci_outputs.publish(written.document, written.report, os.environ)


def withdraw_reports(run_dir: Path) -> None:
    """Remove the files that state a verdict: after a write failed, the run's exit code is 4 and no file may say
    otherwise (the measurement, load.json and metrics.json, stays to be judged again)."""
    for name in (VERDICT_FILE, JUNIT_FILE, REPORT_FILE):
        (run_dir / name).unlink(missing_ok=True)


def verdict_document(artifacts: RunArtifacts) -> dict[str, Any]:
    """The machine-readable verdict."""
    verdict, spec, judgement = artifacts.judgement.verdict, artifacts.spec, artifacts.judgement
    return {
        "schema_version": SCHEMA_VERSIONS["verdict"],
        "service": spec.service,
        "version": spec.version,
        "decision": verdict.decision.value,
        "verdict": verdict_summary(verdict),
        "exit_code": artifacts.exit_code,
        "could_not_evaluate": verdict.could_not_evaluate,
        "incomplete": verdict.incomplete,
        "reasons": list(verdict.reasons),
        "rollout": rollout_document(verdict),
        "waivers": waivers_document(verdict),
        "rollback_criteria": [
            criterion_document(c, spec.prometheus, _live_window(spec)) for c in rollback_criteria(artifacts)
        ],
        "level": spec.level,
        "interval_coverage": interval_level(spec.level),
        "fail_level": None if judgement.fail_level is None else judgement.fail_level.level,
        "multiplicity": _fail_level_text(judgement),
        "shape": _shape_document(judgement.shape),
        "looks": looks_document(judgement.looks),
        "window": {"start": artifacts.metrics.window.start, "end": artifacts.metrics.window.end},
        "prometheus": {"url": artifacts.metrics.prometheus_url, "tls_insecure": artifacts.metrics.tls_insecure},
        "baseline": None
        if artifacts.baseline is None
        else {"file": str(artifacts.baseline.path), "version": artifacts.baseline.version},
        **({"reference": {"file": str(artifacts.reference.path), "version": artifacts.reference.version}}
           if artifacts.reference else {}),
        "gates": [_gate_document(result) for result in artifacts.judgement.results],
        "measurement": None if artifacts.checks is None else artifacts.checks.to_dict(),
    }


def _gate_document(result: GateResult) -> dict[str, Any]:
    def interval(i: Any) -> dict[str, Any] | None:
        if i is None:
            return None
        method = {"method": describe(i.method), "method_parameters": method_parameters(i.method)}
        return {"estimate": i.estimate, "low": i.low, "high": i.high, "coverage": i.coverage, **method}

    def change(c: Change | None) -> dict[str, Any] | None:
        return None if c is None else {"kind": c.kind, **(interval(c.interval) or {})}

    gate = result.gate
    return {
        "name": gate.name,
        "metric": gate.metric.name,
        "severity": gate.severity,
        "status": result.status.value,
        "reason": result.reason,
        "unit": gate.metric.unit,
        "bounds": {"max": gate.max, "min": gate.min, "max_regression": gate.max_regression,
                   **({"max_drift": gate.max_drift} if gate.max_drift is not None else {})},
        "measured": interval(result.value),
        "baseline": interval(result.baseline),
        "change": change(result.change),
        **({"reference": interval(result.reference), "drift": change(result.drift)} if gate.max_drift is not None
           else {}),
        "source": result.source,
        "checks": [{"bound": c.bound, "status": c.status.value, "reason": c.reason} for c in result.checks],
        "judged_on": result.side,
        "resolution": None if result.resolution is None else result.resolution.to_dict(),
        "beside": None if result.beside is None else _gate_document(result.beside),
        "runs_needed": runs_needed_document(result.runs_needed),
    }


def render_markdown(artifacts: RunArtifacts, extras: dict[str, Any]) -> str:
    """The Markdown report; `extras` are the decision, analysis, charts and checklist (report/sections.py)."""
    verdict, spec = artifacts.judgement.verdict, artifacts.spec
    queries = _query_refs(artifacts.metrics.queries)
    return _templates.get_template("report.md.j2").render(
        service=cell(spec.service),
        version=cell(spec.version),
        decision=verdict.decision.value,
        rollout=plan_line(verdict),
        could_not_evaluate=verdict.could_not_evaluate,
        incomplete=cell(verdict.incomplete) if verdict.incomplete else None,
        reasons=[cell(reason) for reason in verdict.reasons],
        run_id=code(artifacts.run_dir.name),
        generated_at=utc(datetime.now(UTC).timestamp()),
        slagate_version=__version__,
        spec_path=code(spec.path),
        confidence=_level_text(interval_level(spec.level)),
        bound_level=_level_text(spec.level),
        gates=[_gate_row(result, queries) for result in artifacts.judgement.results],
        reference=cell(artifacts.reference.version) if artifacts.reference else None,
        interval_methods=_interval_methods(artifacts.judgement.results) + _shape_line(artifacts.judgement.shape),
        multiplicity=_fail_level_text(artifacts.judgement),
        looks=looks_lines(artifacts.judgement.looks),
        rollback_criteria=_rollback_lines(artifacts),
        facts=_facts(artifacts),
        errors=error_rows(artifacts.load),
        measurement=measurement_section(artifacts.checks),
        queries=list(queries.values()),
        **extras,
        routes=routes_section(artifacts.judgement.results, artifacts.load, artifacts.metrics),
    )


def rollback_criteria(artifacts: RunArtifacts) -> list[Criterion]:
    """The verdict's rollback criteria, each relative one naming the baseline version it was computed from (the
    pinned reference's for `max_drift`)."""
    versions = {
        CheckKind.MAX_REGRESSION: artifacts.baseline.version if artifacts.baseline else None,
        CheckKind.MAX_DRIFT: artifacts.reference.version if artifacts.reference else None,
    }
    return [
        replace(c, baseline=replace(c.baseline, version=versions.get(c.bound))) if c.baseline else c
        for c in artifacts.judgement.verdict.rollback_criteria
    ]


def rollback_texts(artifacts: RunArtifacts) -> list[str]:
    """The rollback criteria as sentences (for the checklist)."""
    return [line["text"] or "" for line in _rollback_lines(artifacts)]


def checklist_file(artifacts: RunArtifacts) -> Path | None:
    """Write RUN_DIR/checklist.md alone (`slagate checklist`); None when the spec names no checklist."""
    return None if write_checklist(artifacts, rollback_texts(artifacts)) is None else artifacts.run_dir / CHECKLIST_FILE


def _live_window(spec: Spec) -> str:
    return duration(spec.rules.window)


def _rollback_lines(artifacts: RunArtifacts) -> list[dict[str, str | None]]:
    """Each rollback criterion as the report shows it: a sentence and the PromQL that watches it."""
    window = _live_window(artifacts.spec)
    return [
        {"text": cell(rollback_sentence(c, window)), "promql": criterion_expr(artifacts.spec.prometheus, c, window)}
        for c in rollback_criteria(artifacts)
    ]


def _query_refs(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each distinct query once, numbered Q1, Q2, ... so table cells can cite them briefly."""
    refs: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if entry["query"] not in refs:
            refs[entry["query"]] = {
                "ref": f"Q{len(refs) + 1}",
                "name": cell(entry["name"]),
                "query": code(entry["query"]),
                "time": utc(entry["time"]),
                "error": cell(entry["error"]) if entry.get("error") else None,
            }
    return refs


def _gate_row(result: GateResult, queries: dict[str, dict[str, Any]]) -> dict[str, str | None]:
    unit = result.gate.metric.unit
    cited = [q["ref"] for text, q in queries.items() if f"`{text}`" in result.source]
    return {
        "name": cell(result.gate.name),
        "severity": result.gate.severity,
        "measured": _interval_text(result.value, unit, "missing"),
        "baseline": _interval_text(result.baseline, unit, "—" if result.gate.max_regression is None else "missing"),
        "change": change_text(result.change),
        "drift": change_text(result.drift),
        "bounds": cell(", ".join(check.bound for check in result.checks) or _declared_bounds(result)),
        "status": result.status.value,
        "reason": cell(result.reason),
        "runs_needed": None if result.runs_needed is None else cell(runs_needed_sentence(result.runs_needed)),
        "source_refs": ", ".join(f"[{ref}]" for ref in cited) or cell(result.source),
    }


def _declared_bounds(result: GateResult) -> str:
    gate, unit = result.gate, result.gate.metric.unit
    parts = []
    if gate.max is not None:
        parts.append(f"≤ {format_value(gate.max, unit)}")
    if gate.min is not None:
        parts.append(f"≥ {format_value(gate.min, unit)}")
    if gate.max_regression is not None:
        parts.append(f"regression ≤ {gate.max_regression * 100:g} %")
    if gate.max_drift is not None:
        parts.append(f"drift ≤ {gate.max_drift * 100:g} %")
    return ", ".join(parts)


def _interval_text(interval: Any, unit: str, missing: str) -> str:
    if interval is None:
        return missing
    estimate = format_value(interval.estimate, unit)
    if interval.low == interval.high == interval.estimate:
        return f"{estimate} (no interval)"
    return f"{estimate} [{format_value(interval.low, unit)}, {format_value(interval.high, unit)}]"


def _shape_line(shape: ShapeObservation | None) -> list[str]:
    if shape is None:
        return []
    return [cell(f"**distribution shape** (observation, not a gate) — {shape_sentence(shape)}")]


def _shape_document(shape: ShapeObservation | None) -> dict[str, Any] | None:
    """verdict.json's `shape`: each quantile's ratio with its interval, the ones apart, and the sentence."""
    if shape is None:
        return None
    return {
        "ratios": [
            {"q": p, "estimate": i.estimate, "low": i.low, "high": i.high, "coverage": i.coverage}
            for p, i in zip(shape.probabilities, shape.ratios, strict=True)
        ],
        "apart": list(shape.apart),
        "changed": shape.changed,
        "text": shape_sentence(shape),
    }


def _fail_level_text(judgement: Judgement) -> str:
    return "" if judgement.fail_level is None else fail_level_sentence(judgement.fail_level)


def _level_text(level: float) -> str:
    """A confidence level as the report shows it: 95 %, 99.29 %."""
    return f"{round(level * 100, 2):g} %"


def _interval_methods(results: list[GateResult]) -> list[str]:
    """One line per gate: how its interval, and its change against the baseline, were computed."""
    lines = []
    for result in results:
        parts = [f"measured: {describe(result.value.method)}"] if result.value is not None else []
        if result.change is not None:
            parts.append(f"change: {describe(result.change.interval.method)}")
        if parts:
            lines.append(cell(f"**{result.gate.name}** — {'; '.join(parts)}"))
    return lines or ["none computed (no data)"]


def _facts(artifacts: RunArtifacts) -> list[dict[str, str]]:
    metrics, load, baseline = artifacts.metrics, artifacts.load, artifacts.baseline
    window = metrics.window
    facts = [
        {
            "name": "Steady window",
            "value": f"{utc(window.start)} → {utc(window.end)} ({window.seconds:.1f} s)",
            "source": "load.json (warm-up excluded); Prometheus queried over exactly this range",
        },
        {"name": "Prometheus", "value": cell(metrics.prometheus_url), "source": "spec / PROMETHEUS_URL"},
        *_reading_facts(metrics.scope),
    ]
    if load is not None:
        facts += _load_facts(load, artifacts.checks)
    else:
        facts.append({"name": "Load", "value": "missing (no load.json)", "source": "—"})
    if baseline is not None:
        provenance = baseline.provenance
        facts.append(
            {
                "name": "Baseline",
                "value": f"version {baseline.version}, recorded {provenance.get('recorded_at', '?')}, "
                f"commit {str(provenance.get('git_commit') or 'unknown')[:12]}",
                "source": f"`{baseline.path}`",
            }
        )
        facts += baseline_facts(baseline, artifacts.comparability)
    else:
        facts.append({"name": "Baseline", "value": "none configured", "source": "spec `[baseline] file`"})
    if artifacts.reference is not None:
        reference = artifacts.reference
        drifts = [f"{cell(g.name)} ≤ {g.max_drift * 100:g} %" for g in artifacts.spec.gates if g.max_drift is not None]
        facts.append({
            "name": "Reference (pinned)",
            "value": f"version {reference.version}, recorded {reference.provenance.get('recorded_at', '?')}; "
            f"drift allowed since it: {', '.join(drifts)}",
            "source": f"`{reference.path}`",
        })
    return facts


def _reading_facts(scope: dict[str, Any]) -> list[dict[str, str]]:
    """The spec's reading of the service as measured: the series read, and the error label's values with which of
    them counted as errors."""
    if "error_label" not in scope:
        return []
    counter = f"{scope['counter']}{{{scope['selector']}}}" if scope.get("selector") else scope["counter"]
    values = scope.get("error_label_values") or {}
    errors = scope.get("error_values")
    shown = ", ".join(f"{value} ({count:,.0f})" for value, count in sorted(values.items())) or "none"
    counted = ("unknown (the query failed)" if errors is None else
               ", ".join(sorted(errors)) if errors else "none of them")
    unlabelled = scope.get("unlabelled_requests") or 0
    extra = f"; {unlabelled:,.0f} requests on series without `{scope['error_label']}`" if unlabelled else ""
    return [{
        "name": "Reading of the service",
        "value": cell(f"{counter}: `{scope['error_label']}` took {shown} in the window{extra}; error_regex "
                      f"\"{scope['error_regex']}\" counted {counted} as errors"),
        "source": "Prometheus, `sum by` the error label over the window (metrics.json `scope`)",
    }]


def _load_facts(load: LoadResult, checks: MeasurementChecks | None) -> list[dict[str, str]]:
    profile = load.profile
    steady = load.steady_timeline()
    requests = steady.successes + steady.failures
    combined = steady.combined()
    client = (
        ", ".join(f"p{q * 100:g} {format_seconds(combined.quantile(q) / 1e6)}" for q in CLIENT_QUANTILES)
        if combined.total
        else "missing (no request completed in the window)"
    )
    if checks is not None and not checks.client_reliable:
        client = f"**unreliable** (see Measurement): {client}"
    if profile["model"] == "open":
        shape = f"open model, {profile['arrival_rate']:g} req/s ({profile['arrival']}, ramp {profile['ramp_s']:g} s)"
        users = f"{shape} served by up to {profile['users']} users"
    else:
        users = f"closed model, {profile['users']} users (spawn {profile['spawn_rate']:g}/s)"
    return [
        {
            "name": "Load profile",
            "value": f"{users}, {profile['duration_s']:g} s with {profile['warmup_s']:g} s warm-up, "
            f"target {profile['target']}",
            "source": f"spec, locustfile `{profile['locustfile']}`",
        },
        {
            "name": "Requests in window",
            "value": f"{requests} ({steady.failures} failed)",
            "source": "client (Locust request events), load.json",
        },
        {
            "name": "Achieved rate",
            "value": f"{requests / load.window_seconds:.1f} req/s" if load.window_seconds > 0 else "missing",
            "source": "client, load.json",
        },
        {"name": "Client latency", "value": client, "source": "client histogram (µs resolution, ≤0.1 % error)"},
        {
            "name": "Load generator",
            "value": f"Locust {load.generator.get('locust_version')}, {load.generator.get('processes')} process(es)"
            f" ({load.generator.get('mode', 'in-process')}); {load.captured_requests} requests captured, "
            f"Locust reported {_or_unknown(load.locust_requests)}",
            "source": "load.json",
        },
    ]


def _or_unknown(value: object) -> str:
    return "unknown" if value is None else str(value)

