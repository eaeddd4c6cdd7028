"""Words for the judgement's own values: a change against a baseline, how FAIL's level was chosen, and the
distribution-shape note."""

from validator.evidence import Change
from validator.judge.gates import FailLevel
from validator.judge.judgement import ShapeObservation
from validator.stats.intervals import interval_level


def change_text(change: Change | None) -> str:
    """A change against a baseline as the tables show it: '×1.221 [1.102, 1.354]', '+0.010 pp [-0.020, +0.040]'."""
    if change is None:
        return "—"
    i = change.interval
    if change.kind == "ratio":
        return f"×{i.estimate:.3f} [{i.low:.3f}, {i.high:.3f}]"
    return f"{i.estimate * 100:+.3f} pp [{i.low * 100:+.3f}, {i.high * 100:+.3f}]"


def fail_level_sentence(fail: FailLevel) -> str:
    """Why a bound PASSes and FAILs at the levels it does, in one sentence for the report and verdict.json."""
    shown = f"{fail.bound_level * 100:g} %"
    if fail.multiplicity == "margin":
        interval = f"{interval_level(fail.bound_level) * 100:g} %"
        return (
            f"each bound is judged on its own one-sided {shown} bound, an end of the {interval} interval shown, so a "
            f"build exactly at a bound PASSes it, or FAILs it, about {(1 - fail.bound_level) * 100:g} % of the time; "
            "over several gates the margins keep a build that meets its bounds far from FAIL "
            "(benchmarks/stat_quality.py measures the verdict's false NO-GO rate)"
        )
    return (
        f"PASS on one-sided {shown} bounds; FAIL only on the one-sided {fail.level * 100:.2f} % bound (Bonferroni "
        f"over the {fail.critical_bounds} bounds of critical gates, so even a build exactly at every bound is NO-GO "
        f"at most {(1 - fail.bound_level) * 100:g} % of the time, nominally)"
    )


def shape_sentence(shape: ShapeObservation) -> str:
    """Candidate ÷ baseline at p50 … p99.9 with intervals, then whether the distribution moved whole or changed."""
    shown = ", ".join(
        f"p{p * 100:g} ×{i.estimate:.3f} [{i.low:.3f}, {i.high:.3f}]"
        for p, i in zip(shape.probabilities, shape.ratios, strict=True)
    )
    median = shape.ratios[0]
    verdict = (
        f"the shape changed: the ratio at p{shape.apart[-1] * 100:g} is clearly unlike the median's"
        if shape.changed
        else "the distribution moved as a whole (no quantile's ratio is clearly unlike the median's)"
    )
    draws = median.method.kind.value  # exact or block: the draws the gates' within-run ratios use
    return f"candidate ÷ baseline {shown} ({median.coverage * 100:g} % intervals, {draws} draws); {verdict}"
