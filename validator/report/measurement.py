"""The report's Measurement section: warnings, then a table row per run for each check's facts."""

from typing import Any

from validator.measure.checks import MeasurementChecks, RunChecks
from validator.report.markdown import cell, utc
from validator.spec.units import format_seconds


def measurement_section(checks: MeasurementChecks | None) -> dict[str, Any] | None:
    """The values the template shows: warnings, notes, generator health, client vs server, Little, open model."""
    if checks is None or not checks.runs:
        return None
    runs = checks.runs
    return {
        "several": len(runs) > 1,
        "warnings": [cell(w) for w in checks.warnings],
        "notes": [cell(n) for n in checks.notes],
        "client_reliable": checks.client_reliable,
        "health": [_health_row(run, h) for run in runs for h in run.health],
        "comparison": [_count_row(run, row) for run in runs for row in _count_rows(run)]
        + [_comparison_row(run, row) for run in runs for row in run.comparison],
        "little": [_little_row(run) for run in runs if run.little is not None],
        "open_model": [row for run in runs if run.open_model is not None for row in _open_model_rows(run)],
        "lost_workers": [_lost_worker_row(run, w) for run in runs for w in run.lost_workers],
    }


def _seconds(value: float | None) -> str:
    return "missing" if value is None else format_seconds(value)


def _run_label(run: RunChecks) -> str:
    return "" if run.run is None else f"run {run.run}"


def _health_row(run: RunChecks, health: Any) -> dict[str, Any]:
    return {
        "run": _run_label(run),
        "process": cell(health.process),
        "samples": health.samples,
        "cpu": f"{health.cpu_mean:.0f} % / {health.cpu_max:.0f} %",
        "lag": f"{health.lag_max_ms:.1f} ms",
        "saturated": f"{health.saturated_share * 100:.0f} %" + (" — **saturated**" if health.saturated else ""),
    }


def _count_rows(run: RunChecks) -> list[dict[str, Any]]:
    return list((run.reconciliation or {}).get("rows") or [])


COUNT_FIGURES = {"requests": "requests", "failures": "failures (client) / errors (server)",
                 "success_rate": "success rate", "throughput": "throughput"}


def _count_row(run: RunChecks, row: dict[str, Any]) -> dict[str, str]:
    figure = row["figure"]
    if figure == "success_rate":
        client, server = f"{row['client'] * 100:.3f} %", f"{row['server'] * 100:.3f} %"
        gap = f"{(row['server'] - row['client']) * 100:+.3f} pp"
    elif figure == "throughput":
        client, server = f"{row['client']:,.1f} req/s", f"{row['server']:,.1f} req/s"
        gap = f"{row['server'] - row['client']:+,.1f} req/s (±{row['tolerance']:,.1f})"
    else:
        client, server = f"{row['client']:,.0f}", f"{row['server']:,.0f}"
        gap = f"{row['difference']:+,.0f} (±{row['tolerance']:,.0f})"
    return {"run": _run_label(run), "quantile": COUNT_FIGURES.get(figure, figure), "client": client,
            "server": server, "ratio": gap, "flag": "**gap**" if row["flagged"] else "ok"}


def _comparison_row(run: RunChecks, row: dict[str, Any]) -> dict[str, str]:
    return {
        "run": _run_label(run),
        "quantile": f"p{row['quantile'] * 100:g} latency",
        "client": _seconds(row["client_s"]),
        "server": _seconds(row["server_s"]),
        "ratio": "—" if row["ratio"] is None else f"×{row['ratio']:.2f}",
        "flag": _comparison_flag(row),
    }


def _comparison_flag(row: dict[str, Any]) -> str:
    if row["flagged"]:
        return "**gap**"
    if row.get("resolution_limit"):
        return "bucket resolution"
    return "ok" if row["ratio"] is not None else "not compared"


def _little_row(run: RunChecks) -> dict[str, str]:
    little = run.little or {}
    ratio = little["ratio"]
    tolerance = little["tolerance"]
    return {
        "run": _run_label(run),
        "users": str(little["users"]),
        "throughput": f"{little['throughput_per_s']:.1f}/s",
        "latency": _seconds(little["mean_latency_s"]),
        "wait": _seconds(little["mean_wait_s"]),
        "implied": f"{little['implied_users']:.1f}",
        "ratio": f"×{ratio:.2f}" + (" — **short**" if ratio < 1 - tolerance else ""),
    }


def _open_model_rows(run: RunChecks) -> list[dict[str, str]]:
    model = run.open_model or {}
    rate = f"{model['achieved_rate']:.1f} req/s of {model['arrival_rate']:g} req/s"
    late = (
        f"{model['late_sends']} ({model['late_share'] * 100:.2f} %), late by p50 {_seconds(model['late_by_p50_s'])}, "
        f"p99 {_seconds(model['late_by_p99_s'])}, max {_seconds(model['late_by_max_s'])}"
    )
    return [
        {
            "run": _run_label(run),
            "rate": rate,
            "late": late,
            "quantile": key,
            "corrected": _seconds(model["corrected"][key]),
            "raw": _seconds(value),
        }
        for key, value in model["raw"].items()
    ]


def _lost_worker_row(run: RunChecks, worker: dict[str, Any]) -> dict[str, Any]:
    return {
        "index": (f"{_run_label(run)}, " if run.run is not None else "") + str(worker["index"]),
        "id": cell(worker["id"]),
        "requests": worker["requests_reported"],
        "last_report": "never" if worker["last_report"] is None else utc(worker["last_report"]),
    }
