"""The production-readiness checklist: facts this run can verify (ticked, or crossed with the reason), the rest
left for people, rendered from the spec's template in Jinja's sandbox into report.md and `checklist.md`.

The template receives plain values only (strings already made safe for Markdown, numbers, lists, dicts), so a
template cannot reach Python objects, and outside text cannot inject Markdown or HTML.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment

from validator.errors import InputFileError
from validator.judge.gates import CheckKind, GateResult, Status
from validator.judge.run import RunArtifacts
from validator.judge.verdict import WaiverState
from validator.report.decision import hold_text, percent_text
from validator.report.markdown import cell, code, one_line

CHECKLIST_FILE = "checklist.md"

_environment = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)


def fact(ok: bool, text: str, why: str) -> dict[str, Any]:
    """A verifiable item: ticked when `ok`, else crossed; `why` is the figure or reason behind it."""
    return {"ok": bool(ok), "text": text, "why": why}


def _gate_item(result: GateResult, waived: dict[str, str]) -> dict[str, Any]:
    name = cell(result.gate.name)
    if result.status == Status.PASS:
        return fact(True, f"{name} PASS", cell(result.reason))
    if result.gate.name in waived:
        return fact(True, f"{name} {result.status.value}, waived", waived[result.gate.name])
    return fact(False, f"{name} {result.status.value}", cell(result.reason))


def checklist_context(artifacts: RunArtifacts, rollback_lines: Sequence[str] = ()) -> dict[str, Any]:
    """Everything the template may use: `facts` by section, the gates, the plan, the waivers, the decision."""
    judgement, load, baseline, checks = artifacts.judgement, artifacts.load, artifacts.baseline, artifacts.checks
    results, verdict, queries = judgement.results, judgement.verdict, artifacts.metrics.queries
    steady = load.steady_timeline() if load is not None else None
    requests = 0 if steady is None else steady.successes + steady.failures
    answered = sum(q.get("error") is None for q in queries)
    by_metric = {r.gate.metric.name: r for r in results}
    latency = [r for r in results if r.gate.metric.quantile]
    thin = [r for r in results if any(c.kind == CheckKind.ENOUGH_DATA and c.status == Status.WARN for c in r.checks)]
    gaps = [row for run in (checks.runs if checks else []) for row in run.comparison if row.get("flagged")]
    waived = {
        use.waiver.gate: f"waiver: {cell(use.waiver.reason)}, approved by {cell(use.waiver.approved_by)}, "
        f"expires {use.waiver.expires.isoformat()}"
        for use in verdict.waivers
        if use.state == WaiverState.APPLIED
    }

    def status_of(metric: str) -> dict[str, Any]:
        result = by_metric.get(metric)
        if result is None:
            return fact(False, f"{metric} gated", "no gate in the spec measures it")
        return fact(
            result.status == Status.PASS or result.gate.name in waived,
            f"{cell(result.gate.name)} {result.status.value}",
            cell(result.reason),
        )

    runs = len(checks.runs) if checks else (1 if load is not None else 0)
    plan = verdict.rollout
    facts = {
        "performance": [
            fact(
                bool(latency) and all(r.value is not None for r in latency),
                "p50 / p95 / p99 measured",
                ", ".join(f"{cell(r.gate.name)}: {'measured' if r.value else 'no data'}" for r in latency)
                or "no latency gate in the spec",
            ),
            *(status_of(metric) for metric in ("latency_p99", "success_rate", "throughput")),
            fact(
                baseline is not None,
                "compared with a reviewed baseline",
                "none configured" if baseline is None else f"version {cell(baseline.version)} ({code(baseline.path)})",
            ),
        ],
        "monitoring": [
            fact(
                bool(queries) and answered == len(queries),
                "Prometheus answered every query",
                f"{answered} of {len(queries)}",
            ),
            fact(
                any(r.value is not None for r in latency),
                "the service exports its latency histogram",
                "server quantiles measured" if any(r.value for r in latency) else "no server quantile measured",
            ),
            fact(
                not gaps,
                "client and server latency agree",
                "no quantile beyond the gap factor" if not gaps else f"{len(gaps)} quantile(s) flagged",
            ),
            fact(bool(rollback_lines), "rollback criteria defined for the canary", f"{len(rollback_lines)} criteria"),
        ],
        "testing": [
            fact(
                requests > 0,
                "synthetic load ran and was captured",
                "not run" if load is None else f"{requests:,} requests in {load.window_seconds:.0f} s (load.json)",
            ),
            fact(
                checks is not None and not checks.warnings,
                "the load's own measurement is sound",
                "no measurement warning"
                if checks and not checks.warnings
                else cell("; ".join(checks.warnings))
                if checks
                else "not assessed",
            ),
            fact(
                not thin,
                "enough requests beyond every gated quantile",
                "every quantile has ≥ 30 requests beyond it"
                if not thin
                else ", ".join(cell(r.gate.name) for r in thin) + " too thin",
            ),
            fact(
                runs >= 2,
                "repeated runs (load.repeat ≥ 2)",
                f"{runs} run(s)" + ("" if runs >= 2 else ": run-to-run noise comes from the baseline only"),
            ),
        ],
        "deployment": [
            fact(
                bool(plan.stages),
                "a rollout plan follows from the verdict",
                f"{cell(plan.name)}: "
                + " → ".join(f"{percent_text(s.traffic_percent)} ({hold_text(s.hold_s)})" for s in plan.stages)
                if plan.stages
                else "none: the verdict does not allow a rollout",
            ),
        ],
        "documentation": [
            fact(True, "this report, verdict.json and the charts are written", code(artifacts.run_dir.name))
        ],
        "critical": [_gate_item(r, waived) for r in results if r.critical],
        "warning": [_gate_item(r, waived) for r in results if not r.critical],
    }
    approvals = [
        {
            "role": cell(f"waiver of {use.waiver.gate}"),
            "name": cell(use.waiver.approved_by),
            "date": f"until {use.waiver.expires.isoformat()}",
            "decision": "waived" if use.state != WaiverState.EXPIRED else "expired, ignored",
        }
        for use in verdict.waivers
    ]
    stages = [
        {
            "number": n,
            "traffic": percent_text(s.traffic_percent),
            "hold": hold_text(s.hold_s),
            "decides": cell(s.decides),
        }
        for n, s in enumerate(plan.stages, 1)
    ]
    return {
        "decision": verdict.decision.value,
        "service": cell(artifacts.spec.service),
        "version": cell(artifacts.spec.version),
        "facts": facts,
        "approvals": approvals,
        "stages": stages,
        "rollback_criteria": list(rollback_lines),
    }


def check_template(template: Path) -> jinja2.Template:
    """The template compiled, checked before any load: UTF-8 text, valid Jinja, and standing alone (no include,
    import or extends: the sandbox has no loader); else one line naming the file (exit 2)."""
    try:
        text = template.read_text(encoding="utf-8")
        tree = _environment.parse(text)
    except (OSError, UnicodeDecodeError) as error:
        why = "not UTF-8 text" if isinstance(error, UnicodeDecodeError) else error.strerror or str(error)
        raise InputFileError(template, "(template)", f"a readable UTF-8 checklist template ({why})") from None
    except (jinja2.TemplateError, RecursionError) as error:
        raise InputFileError(template, "(template)", f"a valid Jinja template ({one_line(error)})") from None
    if any(True for _ in tree.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends))):
        raise InputFileError(template, "(template)", "a template that stands alone, without {% include %}, "
                             "{% import %} or {% extends %}")
    return _environment.from_string(tree)


def render_checklist(template: Path, context: dict[str, Any]) -> str:
    """The template rendered in Jinja's sandbox; a broken or unsafe template, or one that fails while rendering
    (a range past the sandbox's limit, a division by zero), is one line naming the file (exit 2)."""
    compiled = check_template(template)
    try:
        return compiled.render(**context).strip() + "\n"
    except Exception as error:  # the template is the user's code: any failure of it is theirs, never a traceback
        raise InputFileError(template, "(template)", f"a checklist template that renders ({one_line(error)})") from None
