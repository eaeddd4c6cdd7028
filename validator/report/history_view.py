"""`slagate history` in words and a picture: a table of runs across versions and a trend chart (p50/p95/p99 and
success rate with their intervals by version, each point coloured by its verdict)."""

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

from validator.judge.changes import ChangePoint, GateChange, Level
from validator.report.chart_style import DPI, VERDICT_COLOURS, label_text
from validator.report.markdown import one_line
from validator.spec.units import format_value

TREND = (("latency_p50", "p50", "#1f5fbf"), ("latency_p95", "p95", "#7b3fbf"), ("latency_p99", "p99", "#c62828"))


def _figure(entry: dict[str, Any], metric: str) -> dict[str, Any] | None:
    """The entry's first gate on `metric` that has a figure."""
    return next((g for g in entry["gates"] if g.get("metric") == metric and g.get("estimate") is not None), None)


def _shown(gate: dict[str, Any] | None) -> str:
    if gate is None:
        return "—"
    unit = gate.get("unit", "")
    low, high = gate.get("low"), gate.get("high")
    interval = "" if low is None or high is None else f" [{format_value(low, unit)}, {format_value(high, unit)}]"
    return f"{format_value(gate['estimate'], unit)}{interval}"


def history_rows(entries: Sequence[dict[str, Any]]) -> list[list[str]]:
    """One row per run: date, service, version, verdict, p50, p95, p99, success rate, baseline version, run id."""
    rows = []
    for entry in entries:
        rows.append(
            [
                one_line(entry["date"])[:16].replace("T", " "),
                one_line(entry["service"]),
                one_line(entry["version"]),
                one_line(entry["decision"]),
                *(_shown(_figure(entry, metric)) for metric, _, _ in TREND),
                _shown(_figure(entry, "success_rate")),
                one_line(entry.get("baseline_version") or "—"),
                one_line(entry["run_id"]),
            ]
        )
    return rows


HEADER = ["date (UTC)", "service", "version", "verdict", "p50", "p95", "p99", "success rate", "baseline", "run"]


def history_table(entries: Sequence[dict[str, Any]]) -> str:
    """The runs as an aligned text table."""
    return _aligned([HEADER, *history_rows(entries)])


def _aligned(rows: Sequence[Sequence[str]]) -> str:
    """Rows as an aligned text table, the first row a header underlined."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(lines)


def changes_table(changes: Sequence[GateChange]) -> str:
    """The change points as an aligned text table: where each level starts, before → after, the change and p."""
    if not changes:
        return "no change point: every gate's figure stayed at one level across these runs"
    header = ["service", "gate", "from run", "version", "before", "after", "change", "p"]
    rows = [header]
    for change in changes:
        point, unit = change.point, change.unit
        rows.append([
            one_line(change.service), one_line(change.gate), one_line(point.at.run_id), one_line(point.at.version),
            _level_text(point.before, unit), _level_text(point.after, unit), _change_text(point),
            f"{point.p_value:.1g}",
        ])
    return _aligned(rows)


def _level_text(level: Level, unit: str) -> str:
    shown = (format_value(x, unit) for x in (level.estimate, level.low, level.high))
    estimate, low, high = shown
    return f"{estimate} [{low}, {high}] ({level.runs} run{'s' if level.runs != 1 else ''})"


def _change_text(point: ChangePoint) -> str:
    if point.ratio:
        change, low, high = ((x - 1) * 100 for x in (point.change, point.change_low, point.change_high))
        return f"{change:+.1f} % [{low:+.1f} %, {high:+.1f} %]"
    return f"{point.change * 100:+.2f} pp [{point.change_low * 100:+.2f}, {point.change_high * 100:+.2f}]"


def skipped_lines(path: Path, skipped: Sequence[tuple[int, str]]) -> list[str]:
    return [f"{path}: line {number}: {why}; skipped" for number, why in skipped]


def trend_chart(entries: Sequence[dict[str, Any]], path: Path, changes: Sequence[GateChange] = ()) -> Path:
    """p50/p95/p99 (log ms) and success rate by run, in run order, with intervals; points coloured by verdict, and
    a dashed line before each run that starts a new level (a change point)."""
    figure = Figure(figsize=(max(7.0, 1.1 * len(entries) + 3), 6.5))
    figure.subplots_adjust(left=0.13, right=0.97, top=0.93, bottom=0.12, hspace=0.25)
    latency_ax, success_ax = figure.subplots(2, 1, sharex=True)
    xs = list(range(len(entries)))
    labels = [f"{label_text(e['version'], 20)}\n{label_text(str(e['date'])[5:16].replace('T', ' '))}" for e in entries]
    for metric, name, colour in TREND:
        _series(latency_ax, entries, metric, colour, name, 1e3)
    latency_ax.set_yscale("log")
    latency_ax.yaxis.set_minor_locator(NullLocator())
    latency_ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    latency_ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g} ms"))
    latency_ax.set_ylabel("server latency (ms, log)")
    latency_ax.legend(loc="upper left", fontsize=8, ncol=3)
    _series(success_ax, entries, "success_rate", "#2e7d32", "success rate", 100)
    success_ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3f} %"))  # never an offset like +9.999e1
    success_ax.set_ylabel("success rate")
    success_ax.set_xticks(xs, labels, fontsize=8)
    verdicts = [Line2D([], [], marker="o", ls="", color=c, label=v) for v, c in VERDICT_COLOURS.items()]
    success_ax.legend(handles=verdicts, loc="lower left", fontsize=8, ncol=3, title="verdict", title_fontsize=8)
    for index in sorted({change.point.index for change in changes}):
        for ax in (latency_ax, success_ax):
            ax.axvline(index - 0.5, color="0.35", ls="--", lw=1)
        names = ", ".join(sorted({label_text(c.gate, 20) for c in changes if c.point.index == index}))
        latency_ax.annotate(f"new level: {names}", (index - 0.45, 0.98), xycoords=("data", "axes fraction"),
                            fontsize=7, va="top", color="0.25")
    service = label_text(entries[0]["service"]) if entries else "—"
    figure.suptitle(f"History of {service}: figures with their intervals by run (reports/history.jsonl)", fontsize=11)
    partial = path.with_name(f".{path.name}.tmp")
    figure.savefig(partial, dpi=DPI, format="png")
    os.replace(partial, path)
    return path


def _series(ax: Any, entries: Sequence[dict[str, Any]], metric: str, colour: str, name: str, scale: float) -> None:
    figures = [(i, _figure(e, metric), e["decision"]) for i, e in enumerate(entries)]
    points = [(i, g, d) for i, g, d in figures if g is not None]
    if not points:
        return
    xs = [i for i, _, _ in points]
    ys, lows, highs = [], [], []
    for _, gate, _ in points:
        estimate = gate["estimate"]
        low, high = (estimate if gate.get(key) is None else gate[key] for key in ("low", "high"))
        ys.append(estimate * scale)
        lows.append(max(0.0, (estimate - low) * scale))
        highs.append(max(0.0, (high - estimate) * scale))
    ax.errorbar(xs, ys, yerr=[lows, highs], color=colour, lw=1.2, capsize=3, label=name, zorder=1)
    ax.scatter(xs, ys, c=[VERDICT_COLOURS.get(d, "0.5") for _, _, d in points], s=36, zorder=2, edgecolors=colour)
    ax.grid(True, alpha=0.3)
