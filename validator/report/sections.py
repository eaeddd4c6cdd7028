"""The release manager's part of the report: the decision (matrix, stage table, waivers), the analysis in words,
the charts beside the report and the readiness checklist (also written as `checklist.md`)."""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from validator.artifacts import write_text
from validator.errors import InputFileError
from validator.judge.judgement import Judgement
from validator.judge.run import RunArtifacts
from validator.judge.verdict import WaiverState
from validator.report.analysis import gate_sentences, observation_sentence, recommendations
from validator.report.checklist import CHECKLIST_FILE, checklist_context, render_checklist
from validator.report.decision import decision_context
from validator.report.markdown import cell
from validator.timing import Phase, Phases

if TYPE_CHECKING:  # matplotlib is imported only when charts are drawn
    from validator.report.charts import Chart

CHART_WORDS = {
    "latency": (
        "Latency distribution, candidate vs baseline",
        "CDFs on a log latency axis (share axis spread so p50 … p99.9 are apart): candidate and baseline from their "
        "Prometheus buckets (metrics.json, the baseline file), the candidate's client histogram (load.json); dots "
        "with bars are the gates' estimates and intervals, dashed red lines the latency bounds.",
    ),
    "timeline": (
        "Timeline",
        "Requests/s, errors, p50 and p99 per 1-s window from load.json; the warm-up is shaded and the steady window "
        "(the only part judged) lies between the dashed lines; one pair of panels per run.",
    ),
    "errors": (
        "Success rate and errors over time",
        "Success rate per 1-s window with the success gate's bound, and errors per window stacked by category "
        "(status, exception, route) where a window had one category; load.json.",
    ),
    "routes": (
        "Latency per route",
        "One CDF per route (client histograms of the whole load, warm-up included; load.json) over all routes' "
        "in grey.",
    ),
}


def chart_rows(charts: Sequence["Chart"]) -> list[dict[str, str | None]]:
    rows = []
    for chart in charts:
        title, caption = CHART_WORDS[chart.key]
        rows.append(
            {
                "file": chart.file,
                "title": title,
                "caption": caption,
                "error": cell(chart.error) if chart.error else None,
            }
        )
    return rows


def release_sections(
    artifacts: RunArtifacts, rollback_lines: Sequence[str], phases: Phases | None = None
) -> dict[str, Any]:
    """Draw the charts (timed in `phases`) and write checklist.md into the run directory; return what the template
    shows of them, with the decision and the analysis."""
    judgement, metrics, baseline = artifacts.judgement, artifacts.metrics, artifacts.baseline
    with (phases or Phases()).phase(Phase.CHARTS):
        from validator.report.charts import write_charts  # matplotlib (~0.3 s) is imported only to draw charts

        charts = write_charts(
            artifacts.run_dir,
            judgement.results,
            metrics.measurements,
            baseline.measurements if baseline else None,
            list(artifacts.loads),
        )
    observations = artifacts.observations
    return {
        **decision_context(judgement.verdict, judgement.results),
        "charts": chart_rows(charts),
        "analysis": {
            "gates": gate_sentences(
                judgement.results, judgement.shape, baseline.version if baseline else None, _waived(judgement),
                artifacts.reference.version if artifacts.reference else None,
            ),
            "observations": [observation_sentence(item) for item in observations],
            "recommendations": recommendations(observations, judgement.results),
        },
        **_checklist(artifacts, rollback_lines),
    }


def _checklist(artifacts: RunArtifacts, rollback_lines: Sequence[str]) -> dict[str, Any]:
    """The checklist's text for the report, or (when the template fails while rendering) none and the error, which
    is raised only once every other file of the run is written."""
    try:
        return {"checklist": write_checklist(artifacts, rollback_lines), "checklist_failed": None}
    except InputFileError as error:
        return {"checklist": None, "checklist_failed": error}


def _waived(judgement: Judgement) -> dict[str, str]:
    return {
        use.waiver.gate: f"{cell(use.waiver.reason)} (approved by {cell(use.waiver.approved_by)}, until "
        f"{use.waiver.expires.isoformat()})"
        for use in judgement.verdict.waivers
        if use.state == WaiverState.APPLIED
    }


def write_checklist(artifacts: RunArtifacts, rollback_lines: Sequence[str]) -> str | None:
    """The spec's checklist filled in from this run, written as checklist.md; None when the spec names none."""
    template = artifacts.spec.checklist
    if template is None:
        return None
    text = render_checklist(template, checklist_context(artifacts, rollback_lines))
    heading = f"# Production-readiness checklist — {cell(artifacts.spec.service)} {cell(artifacts.spec.version)}"
    verdict = artifacts.judgement.verdict.decision.value
    write_text(
        artifacts.run_dir / CHECKLIST_FILE,
        f"{heading}\n\nRun `{artifacts.run_dir.name}` · verdict **{verdict}** · see report.md\n\n{text}",
    )
    return text
