"""The analysis in words: a sentence per gate, the observations that apply (each with its figure and source), and
the recommendations that follow from them. Every sentence is made from this run's values."""

from collections.abc import Sequence
from typing import Any

from validator.evidence import Change
from validator.judge.gates import CheckKind, GateResult, Status
from validator.judge.judgement import ShapeObservation
from validator.judge.observations import Observation
from validator.report.judgement_words import change_text
from validator.report.markdown import cell, code
from validator.spec.units import format_seconds, format_value
from validator.stats.intervals import Interval

VERDICT_WORD = {
    Status.PASS: "PASS: met across its whole interval",
    Status.WARN: "WARN: the interval straddles the bound, so the data cannot tell",
    Status.FAIL: "FAIL: beyond the bound across its whole interval",
    Status.NO_DATA: "NO_DATA",
}


def _pct(ratio: float) -> str:
    return f"{(ratio - 1) * 100:+.1f} %"


def _change_words(change: Change | None) -> str | None:
    """'rose 12.0 % [+4.1 %, +21.0 %]' or 'is unchanged (−1.2 % [−3.0 %, +0.8 %])', from the change interval."""
    if change is None:
        return None
    i = change.interval
    if change.kind == "ratio":
        shown = f"{_pct(i.estimate)} [{_pct(i.low)}, {_pct(i.high)}]"
        rose, fell = i.low > 1, i.high < 1
    else:
        shown = f"{i.estimate * 100:+.3f} pp [{i.low * 100:+.3f}, {i.high * 100:+.3f}]"
        rose, fell = i.low > 0, i.high < 0
    if rose:
        return f"rose {shown}"
    if fell:
        return f"fell {shown}"
    return f"is unchanged within its interval ({shown})"


def _tail_note(result: GateResult, shape: ShapeObservation | None) -> str:
    """For a tail quantile that clearly moved unlike the median: say it is a tail regression, not a slowdown."""
    q = result.gate.metric.quantile
    if shape is None or not q or q <= 0.5 or not shape.changed or result.change is None:
        return ""
    median = shape.ratios[0]
    median_words = "p50 is unchanged" if median.low <= 1 <= median.high else f"p50 moved only {_pct(median.estimate)}"
    if result.change.interval.low > median.high:
        return f" while {median_words}: a tail regression, not a general slowdown"
    return ""


def gate_sentence(
    result: GateResult,
    shape: ShapeObservation | None,
    baseline_version: str | None,
    reference_version: str | None = None,
) -> str:
    """One sentence a release manager can use for this gate: its figure, its change against the baseline and,
    with `max_drift`, its drift since the pinned reference, then its bounds and status."""
    gate, unit = result.gate, result.gate.metric.unit
    name = f"**{cell(gate.name)}** ({gate.severity})"
    if result.status == Status.NO_DATA or result.value is None:
        stops = "stops the rollout (fail closed)" if result.critical else "keeps the verdict at CAUTION"
        return f"{name} has no data — {cell(result.reason)}; a {gate.severity} gate without data {stops}."
    value = result.value
    measured = (
        f"{format_value(value.estimate, unit)} [{format_value(value.low, unit)}, {format_value(value.high, unit)}]"
    )
    parts = [f"{name} measured {measured}"]
    change = _change_words(result.change)
    if change is not None:
        against = f"baseline {cell(baseline_version)}" if baseline_version else "the baseline"
        tolerance = f" (tolerance {gate.max_regression * 100:g} %)" if gate.max_regression is not None else ""
        parts.append(f"{change} against {against}{tolerance}" + _tail_note(result, shape))
    drift = _change_words(result.drift)
    if drift is not None and gate.max_drift is not None:
        since = f"reference {cell(reference_version)}" if reference_version else "the pinned reference"
        parts.append(f"{drift} since {since} (drift allowed {gate.max_drift * 100:g} %)")
    limits = [c.bound for c in result.checks if c.kind in (CheckKind.MAX, CheckKind.MIN)]
    if limits:
        parts.append("bound " + ", ".join(limits))
    sentence = "; ".join(parts) + f" — {VERDICT_WORD[result.status]}."
    if result.status != Status.PASS:
        sentence += f" Deciding check: {cell(result.reason)}."
    return sentence


def gate_sentences(
    results: Sequence[GateResult],
    shape: ShapeObservation | None,
    baseline_version: str | None,
    waived: dict[str, str] | None = None,
    reference_version: str | None = None,
) -> list[str]:
    """Every gate's sentence; a gate standing short under a waiver says so with the waiver's terms."""
    waived = waived or {}
    return [
        gate_sentence(result, shape, baseline_version, reference_version)
        + (f" Waived: {waived[result.gate.name]}." if result.gate.name in waived else "")
        for result in results
    ]


def _clock(seconds: float) -> str:
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes:02d}:{rest:02d}"


def _interval_ratio(i: Interval) -> str:
    return f"×{i.estimate:.3f} [{i.low:.3f}, {i.high:.3f}]"


def observation_sentence(item: Observation) -> str:
    """The observation with its figure and its source."""
    f, source = item.figures, f" (source: {cell(item.source)})"
    kind = item.kind
    if kind == "tail_vs_median":
        text = (
            f"Tail vs median: p{f['q'] * 100:g} moved {_interval_ratio(f['tail'])} against the baseline while p50 "
            f"moved {_interval_ratio(f['median'])}: the tail changed more than the bulk"
        )
    elif kind == "whole_distribution":
        direction = "slower" if f["median"].estimate > 1 else "faster"
        text = (
            f"The whole distribution moved together: p50 {_interval_ratio(f['median'])} and "
            f"p{f['q'] * 100:g} {_interval_ratio(f['top'])} against the baseline — every request got {direction}, "
            "not only the tail"
        )
    elif kind == "slow_route":
        text = (
            f"One route carries most of the slow requests: {code(f['route'])} holds {f['slow_share'] * 100:.0f} % "
            f"of the requests slower than the baseline's {format_seconds(f['threshold_s'])} but "
            f"{f['traffic_share'] * 100:.0f} % of the traffic (gate {cell(f['gate'])} rose)"
        )
    elif kind == "error_burst":
        text = (
            f"Errors concentrated in time: {f['share'] * 100:.0f} % of the {f['failures']:,} steady-window failures "
            f"fell between {_clock(f['start_s'])} and {_clock(f['end_s'])} after the load started"
        )
    elif kind == "errors_in_one_endpoint":
        text = f"Errors concentrated in one route: {code(f['endpoint'])} has {f['share'] * 100:.0f} % of the failures"
    elif kind == "errors_in_one_status":
        text = f"Errors concentrated in one status: {code(f['status'])} is {f['share'] * 100:.0f} % of the failures"
    elif kind == "throughput_short":
        if f.get("gate"):
            m = f["measured"]
            target = "its bound" if f["target"] is None else f"{f['target']:.1f} req/s"
            text = f"Throughput short of target: {m.estimate:.1f} req/s [{m.low:.1f}, {m.high:.1f}] against {target}"
        else:
            text = f"Throughput short of target: the open model achieved {f['achieved']:.1f} of {f['target']:g} req/s"
    elif kind == "client_server_gap":
        text = (
            f"Client and server disagree: at p{f['quantile'] * 100:g} the client saw "
            f"{format_seconds(f['client_s'])} and Prometheus {format_seconds(f['server_s'])} (×{f['ratio']:.2f})"
        )
    elif kind == "generator_saturated":
        text = (
            f"Load generator saturated: {code(f['process'])} was saturated in {f['share'] * 100:.0f} % of its samples, "
            "so the load it sent was less than specified"
        )
    elif kind == "baseline_profile":
        diffs = ", ".join(f"{k} {cell(a)} → {cell(b)}" for k, (a, b) in f["differ"].items())
        text = f"The baseline was recorded under a different load profile ({diffs})"
    elif kind == "baseline_version":
        text = f"The baseline was recorded by slagate {cell(f['recorded_with'])}; this is slagate {f['running']}"
    elif kind == "coarse_buckets":
        text = (
            f"Coarse server buckets: {cell(f['gate'])} lies in the bucket {format_seconds(f['low'])} – "
            f"{format_seconds(f['high'])}, so its interval can be no narrower than that bucket"
        )
    elif kind == "interval_straddles":
        i = f["interval"]
        text = (
            f"{cell(f['gate'])} is undecided: its interval [{i.low:.4g}, {i.high:.4g}] straddles the bound "
            f"{cell(f['bound'])}"
        )
    elif kind == "new_level":
        point, unit = f["point"], f["unit"]
        if point.ratio:
            change = f"{(point.change - 1) * 100:+.1f} % [{(point.change_low - 1) * 100:+.1f} %, " \
                     f"{(point.change_high - 1) * 100:+.1f} %]"
        else:
            change = f"{point.change * 100:+.2f} pp [{point.change_low * 100:+.2f}, {point.change_high * 100:+.2f}]"
        ordinal = {1: "first", 2: "second", 3: "third"}.get(f["in_a_row"], f"{f['in_a_row']}th")
        side = "above" if point.change > (1.0 if point.ratio else 0.0) else "below"
        text = (
            f"A new level in the history: {_against_baseline(f['against_baseline'], f['baseline'])}this is the "
            f"{ordinal} run in a row of {cell(f['gate'])} {side} its level over versions {cell(f['versions'])} "
            f"({format_value(point.before.estimate, unit)} → {format_value(point.after.estimate, unit)}): "
            f"{change}, p = {point.p_value:.1g}"
        )
    else:
        text = f"{kind}: {cell(f)}"
    return text + source + "."


def _against_baseline(change: Change | None, version: str | None) -> str:
    """The run against its own baseline, as the new-level sentence opens: a level can move while every release
    stays within its per-release tolerance."""
    if change is None:
        return ""
    i, against = change.interval, f"baseline {cell(version)}" if version else "the baseline"
    shown, no_change = change_text(change), 1.0 if change.kind == "ratio" else 0.0
    if i.low <= no_change <= i.high:
        return f"the run is unchanged against {against} ({shown}), but "
    return f"the run is {shown} against {against}, and "


RECOMMENDATIONS = {
    "tail_vs_median": "Look at the slowest requests (traces or logs above the baseline's p99), not at general "
    "capacity: the bulk of requests did not slow down.",
    "whole_distribution": "Look for what changed for every request (CPU or memory limits, a slower dependency, "
    "configuration, the build's hot path) rather than for rare slow requests.",
    "slow_route": "Start with route {route}: profile it or compare its code path with the baseline's build.",
    "error_burst": "Check the target's logs and its dependencies between {start} and {end} of the load (a restart, "
    "a GC pause, a deploy, a dependency timing out).",
    "errors_in_one_endpoint": "Reproduce the failures on {endpoint} alone (the sample message is in the errors table).",
    "errors_in_one_status": "Find what returns status {status}: the errors table names the routes and a sample.",
    "throughput_short": "Check whether the load could have sent more (generator health, users, arrival rate) before "
    "reading the shortfall as the service's.",
    "client_server_gap": "Compare where the time goes between the load generator and the service (network, proxy, "
    "queueing before the server's timer starts).",
    "generator_saturated": 'Re-run with more load workers (load.workers = "auto" or more machines): the client '
    "figures of this run are unreliable.",
    "baseline_profile": "Record a baseline under this load profile (slagate baseline record) or run the load the "
    "baseline was recorded with: figures under different loads are not comparable.",
    "baseline_version": "Re-record the baseline with this slagate version when convenient, so both sides are "
    "measured the same way.",
    "coarse_buckets": "Add finer histogram buckets around the bounds in the service's instrumentation: the bucket "
    "width, not the data, limits this gate.",
    "interval_straddles": "Re-run with load.repeat = 3 (or a longer load.duration) for {gate}: the interval is wider "
    "than the margin between the figure and its bound.",
}


def recommendations(observations: Sequence[Observation], results: Sequence[GateResult]) -> list[str]:
    """What to look at or re-run, one line per observation kind that calls for it (and per thin-data gate)."""
    lines: list[str] = []
    for item in observations:
        template = RECOMMENDATIONS.get(item.kind)
        if template is None:
            continue
        f = item.figures
        values: dict[str, Any] = {
            "route": code(f.get("route", "")),
            "endpoint": code(f.get("endpoint", "")),
            "status": code(f.get("status", "")),
            "gate": cell(f.get("gate", "")),
            "start": _clock(f.get("start_s", 0.0)),
            "end": _clock(f.get("end_s", 0.0)),
        }
        line = template.format(**values)
        if line not in lines:
            lines.append(line)
    for result in results:
        thin = [c for c in result.checks if c.kind == CheckKind.ENOUGH_DATA and c.status == Status.WARN]
        if thin:
            lines.append(f"Run longer for {cell(result.gate.name)}: {cell(thin[0].reason)}.")
    blocking = [r for r in results if r.critical and r.status in (Status.FAIL, Status.NO_DATA)]
    if blocking and not lines:
        names = ", ".join(cell(r.gate.name) for r in blocking)
        lines.append(f"Fix what makes {names} fail and validate again; nothing in this run points elsewhere.")
    return lines
