"""Words for baselines: `slagate baseline list / show / diff / calibrate` tables, the load-mismatch reason, and the
report's facts about the baseline in use (its load comparability and run-to-run noise floor)."""

from typing import Any

from validator.baseline.file import Baseline
from validator.judge.baseline_compare import Calibration, Comparability
from validator.judge.gates import GateResult
from validator.report.judgement_words import change_text
from validator.report.markdown import cell
from validator.spec.metrics import BUILTIN_METRICS
from validator.spec.units import format_value

KEY_METRICS = ("latency_p50", "latency_p95", "latency_p99", "success_rate", "throughput")
def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def _unit(metric: str) -> str:
    definition = BUILTIN_METRICS.get(metric)
    return definition.unit if definition else ""


def _figure(summary: dict[str, Any], metric: str) -> str:
    estimate = summary.get("estimate")
    return "—" if estimate is None else format_value(estimate, _unit(metric))


def list_table(baselines: list[Baseline]) -> str:
    """One row per version: version, date, runs, key figures."""
    keys = [k for k in KEY_METRICS if any(k in (b.summary or {}) for b in baselines)]
    rows = []
    for b in baselines:
        summary = b.summary or {}
        runs = max((entry.get("runs") or 0 for entry in summary.values()), default=0)
        recorded = str(b.provenance.get("recorded_at", "?"))[:16].replace("T", " ")
        rows.append([b.version, recorded, str(runs), *(_figure(summary.get(k, {}), k) for k in keys), str(b.path)])
    return table(["version", "recorded (UTC)", "runs", *keys, "file"], rows)


def show_text(baseline: Baseline) -> str:
    """The summary as a table, with provenance and load profile above it."""
    provenance, profile = baseline.provenance, baseline.load_profile or {}
    target = provenance.get("target") or {}
    lines = [
        f"# baseline {baseline.service} {baseline.version}",
        "",
        f"- file: `{baseline.path}`",
        f"- recorded {provenance.get('recorded_at')} by slagate {provenance.get('slagate_version')} at commit "
        f"{str(provenance.get('git_commit') or 'unknown')[:12]}, spec `{provenance.get('spec_file')}`",
        f"- runs: {', '.join(provenance.get('run_ids') or []) or 'unknown'}",
        f"- target {target.get('url') or 'unknown'} ({target.get('host_class') or 'host class unknown'}), "
        f"Prometheus {provenance.get('prometheus_url') or 'unknown'}",
        "- load: " + (", ".join(f"{k} {v}" for k, v in profile.items() if k != "locustfile_sha256") or "unknown"),
    ]
    if provenance.get("migrated_from"):
        lines.append(f"- migrated on read from schema {provenance['migrated_from']} (its summary recomputed)")
    rows = []
    for metric, entry in (baseline.summary or {}).items():
        unit, interval = _unit(metric), entry.get("interval") or {}
        shown = (
            f"[{format_value(interval['low'], unit)}, {format_value(interval['high'], unit)}]"
            if interval.get("low") is not None and interval.get("high") is not None
            else "—"
        )
        coverage = f"{interval['coverage'] * 100:g} %" if interval else "—"
        rows.append(
            [metric, _figure(entry, metric), shown, coverage, str(entry.get("method") or "—"),
             str(entry.get("runs") or "—"), _noise(entry.get("run_noise"), metric), entry.get("error") or ""]
        )  # fmt: skip
    header = ["metric", "estimate", "interval", "coverage", "method", "runs", "run-to-run noise (SD)", "error"]
    return "\n".join(lines) + "\n\n" + table(header, rows)


def _noise(noise: dict[str, Any] | None, metric: str) -> str:
    if not noise or noise.get("sd") is None:
        return "— (one run)"
    sd = noise["sd"]
    shown = f"{sd * 100:.3f} pp" if _unit(metric) == "ratio" else f"{sd * 100:.2f} %"
    return f"{shown} over {noise['runs']} runs"


def diff_table(
    results: list[GateResult], older: Baseline, newer: Baseline, coverage: float, reference: Baseline | None = None
) -> str:
    """Baseline `newer` against `older`, gate by gate, in the report's gates-table format; with a pinned
    `reference`, the drift since it beside (the change `max_drift` judges)."""
    shown = f"{coverage * 100:g} %"
    drift = [f"Drift since {reference.version} [{shown} CI]"] if reference else []
    header = ["Gate", "Severity", f"{newer.version} [{shown} CI]", f"{older.version} [{shown} CI]",
              f"Change [{shown} CI]", *drift, "Bound", "Status"]  # fmt: skip
    rows = [
        [r.gate.name, r.gate.severity, _interval(r.value, r.gate.metric.unit),
         _interval(r.baseline, r.gate.metric.unit), change_text(r.change),
         *([change_text(r.drift)] if reference else []), ", ".join(c.bound for c in r.checks), f"**{r.status.value}**"]
        for r in results
    ]  # fmt: skip
    reasons = [f"- **{r.gate.name}** ({r.status.value}): {r.reason}" for r in results if r.status.value != "PASS"]
    pinned = f" (pinned reference {reference.version})" if reference else ""
    title = f"## baseline {newer.service} {newer.version} against {older.version}{pinned}\n\n"
    return title + table(header, rows) + ("\n\n" + "\n".join(reasons) if reasons else "")


def _interval(interval: Any, unit: str) -> str:
    if interval is None:
        return "—"
    return (
        f"{format_value(interval.estimate, unit)} "
        f"[{format_value(interval.low, unit)}, {format_value(interval.high, unit)}]"
    )


def calibration_table(rows: list[Calibration], level: float) -> str:
    """Per gate: the noise floor and the max_regression it supports at the spec's level."""
    header = ["Gate", "Runs", "One run's SD", "SE of the comparison", "Smallest max_regression (PASS 95 %)",
              "Regression caught 95 %", "Spec's max_regression"]  # fmt: skip
    body = []
    for row in rows:
        pct = (lambda x: f"{x * 100:.2f} %") if row.ratio else (lambda x: f"{x * 100:.3f} pp")
        spec_value = row.gate.max_regression
        body.append(
            [row.gate.name, f"{row.runs} baseline, {row.candidate_runs} candidate", pct(row.run_sd),
             pct(row.standard_error), pct(row.tolerance), pct(row.caught),
             "—" if spec_value is None else pct(spec_value)]
        )  # fmt: skip
    note = (
        f"\n\nA same-build candidate PASSes a gate with the suggested max_regression 95 % of the time (one-sided "
        f"{level * 100:g} % bounds); a build that regressed by the caught amount FAILs it 95 % of the time."
    )
    return table(header, body) + note


def baseline_facts(baseline: Baseline, comparability: Comparability | None) -> list[dict[str, str]]:
    """The report's rows about the baseline in use: load comparability and the run-to-run noise floor."""
    source = f"`{baseline.path}`"
    if comparability is None or baseline.load_profile is None:
        compared = "not checked (the baseline or the run has no load profile)"
    elif comparability.differences:
        compared = "**differs**: " + "; ".join(d.text for d in comparability.differences)
    else:
        compared = "same (users, arrival rate, duration, workers, locustfile, target host class)"
    noise = [
        f"{metric} {_noise(entry.get('run_noise'), metric)}"
        for metric, entry in (baseline.summary or {}).items()
        if (entry.get("run_noise") or {}).get("sd") is not None
    ]
    floor = ", ".join(noise) if noise else "none (the baseline holds one run: run-to-run noise not included)"
    return [
        {"name": "Baseline load", "value": cell(compared), "source": source},
        {"name": "Baseline noise floor", "value": cell(floor), "source": source},
    ]
