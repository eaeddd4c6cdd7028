"""Which finished runs may become the next baseline: a GO run, a CAUTION run only when forced; never a NO-GO or an
INCOMPLETE one (a baseline must describe a build that was fit to ship, measured to the end)."""

from pathlib import Path

from validator import artifacts
from validator.errors import InputFileError


def promotion_problem(run_dir: Path, force: bool) -> InputFileError | None:
    """Why the run in `run_dir` cannot be promoted, as a one-line error; None when it can."""
    path = run_dir / artifacts.VERDICT_FILE
    verdict = artifacts.read_json(path, "verdict")
    decision = verdict["decision"]
    if verdict.get("incomplete"):
        stopped = verdict["incomplete"]
        return InputFileError(path, "incomplete", f"a finished run to promote; this one stopped: {stopped}")
    if verdict.get("could_not_evaluate"):
        return InputFileError(path, "could_not_evaluate", "a run that was evaluated; this one could not be")
    if decision == "NO-GO":
        return InputFileError(path, "decision", "GO (a NO-GO build is never a baseline)", decision)
    if decision == "CAUTION" and not force:
        why = "; ".join(verdict.get("reasons", [])[:2])
        return InputFileError(path, "decision", f"GO, or --force to promote a CAUTION run ({why})", decision)
    return None
