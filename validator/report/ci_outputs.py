"""The verdict handed to the CI system running slagate: GitHub Actions' step summary and step outputs.

When `GITHUB_STEP_SUMMARY` names a file, the summary (verdict, rollout, gates table, where the full report
is) is appended to it; when `GITHUB_OUTPUT` does, `verdict=`, `exit_code=`, `rollout=` and `report=` are
appended, so later steps can read `steps.<id>.outputs.verdict`. Other CI systems read junit.xml and the exit
code. Built from verdict.json's document; nothing is written when the variables are not set.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from validator.redact import redact
from validator.report.markdown import cell
from validator.spec.units import format_value


def publish(document: dict[str, Any], report: Path, environ: Mapping[str, str]) -> None:
    """Append the step outputs and the step summary GitHub Actions asks for, where it asks for them."""
    outputs = environ.get("GITHUB_OUTPUT")
    if outputs:
        safe = {key: value for key, value in step_outputs(document, report).items() if value.isprintable()}
        _append(Path(outputs), "".join(f"{key}={value}\n" for key, value in safe.items()))
    summary = environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        _append(Path(summary), step_summary(document, report, environ))


def step_outputs(document: dict[str, Any], report: Path) -> dict[str, str]:
    """The step outputs as `key=value` lines (also GitLab's dotenv format); a value with a line break (only a path
    could have one) is left out by `publish`, so no value can forge another key's line."""
    return {
        "verdict": document["decision"],
        "exit_code": str(document["exit_code"]),
        "rollout": document["rollout"]["strategy"],
        "report": str(report),
    }


def rollout_text(rollout: dict[str, Any]) -> str:
    """'standard: 5 % → 25 % → 50 % → 100 %', or 'none' without steps."""
    steps = " → ".join(f"{step:g} %" for step in rollout["steps_percent"])
    return f"{rollout['strategy']}: {steps}" if steps else rollout["strategy"]


def step_summary(document: dict[str, Any], report: Path, environ: Mapping[str, str]) -> str:
    """Markdown for the job's summary page: the verdict, the rollout, the gates and the full report's place."""
    version = document.get("version") or ""
    lines = [
        f"## slagate: **{document['decision']}** — {cell(document['service'])} {cell(version)}".rstrip(),
        "",
        f"**Rollout:** {cell(rollout_text(document['rollout']))} · exit code {document['exit_code']}",
        "",
    ]
    if document["decision"] != "GO":
        lines += [f"- {cell(reason)}" for reason in document["reasons"]] + [""]
    lines += ["| Gate | Severity | Measured | Bound | Status |", "| --- | --- | --- | --- | --- |"]
    for gate in document["gates"]:
        bounds = ", ".join(check["bound"] for check in gate["checks"]) or "—"
        lines.append(
            f"| {cell(gate['name'])} | {gate['severity']} | {_measured(gate)} | {cell(bounds)} | **{gate['status']}** |"
        )
    lines += ["", f"Full report: `{report}` ({_where(environ)})", ""]
    return "\n".join(lines) + "\n"


def _measured(gate: dict[str, Any]) -> str:
    measured, unit = gate.get("measured"), gate["unit"]
    if measured is None:
        return "missing"
    return cell(
        f"{format_value(measured['estimate'], unit)} "
        f"[{format_value(measured['low'], unit)}, {format_value(measured['high'], unit)}]"
    )


def _where(environ: Mapping[str, str]) -> str:
    """Where a reader finds the run folder: the workflow run's artifacts when GitHub names the run."""
    server, repository, run = (environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    if server and repository and run:
        return f"uploaded with the [workflow run's artifacts]({server}/{repository}/actions/runs/{run})"
    return "in the run folder"


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(redact(text))
