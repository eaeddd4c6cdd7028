"""Group-sequential looks: error spending, critical values, the look decision, runs needed."""

import math

import numpy as np
import pytest
from scipy.special import ndtri

from tests.conftest import write_spec
from validator.evidence import Change
from validator.judge import analysis
from validator.spec import SpecError, load_spec
from validator.stats.intervals import Interval, Method, MethodKind, PooledRuns
from validator.stats.sequential import (
    conditional_power,
    critical_values,
    information,
    plan,
    runs_to_decide,
    spent,
)


def test_spending_functions_spend_alpha_by_the_last_look():
    for kind in ("pocock", "obrien_fleming"):
        assert spent(0.0, 0.05, kind) == 0.0 and spent(1.0, 0.05, kind) == pytest.approx(0.05)
        assert spent(0.3, 0.05, kind) < spent(0.6, 0.05, kind)
    assert spent(0.2, 0.05, "obrien_fleming") < spent(0.2, 0.05, "pocock")  # O'Brien–Fleming saves α for later
    with pytest.raises(ValueError):
        spent(0.5, 0.05, "linear")


def test_critical_values_match_published_lan_demets_obrien_fleming_bounds():
    """Five equally spaced looks, one-sided α = 0.025 (as gsDesign sfLDOF gives them)."""
    values = critical_values([1, 2, 3, 4, 5], 0.025, "obrien_fleming")
    assert values == pytest.approx((4.877, 3.357, 2.680, 2.290, 2.031), abs=0.003)
    assert critical_values([1.0], 0.05, "pocock")[0] == pytest.approx(1.6449, abs=1e-3)


def test_critical_values_keep_the_overall_error_by_simulation():
    rng = np.random.default_rng(1)
    info = np.array([information(k, 3) for k in range(1, 6)])
    increments = rng.normal(0, 1, (200_000, 5)) * np.sqrt(np.diff(info, prepend=0.0))
    z = np.cumsum(increments, axis=1) / np.sqrt(info)
    for kind in ("pocock", "obrien_fleming"):
        crossed = (z >= np.array(critical_values(info, 0.05, kind))).any(axis=1).mean()
        assert crossed == pytest.approx(0.05, abs=0.002)


def test_a_plan_of_one_look_is_the_fixed_design_and_later_looks_judge_near_it():
    assert plan(3, 3, 0.95, 3).levels == (0.95,)
    looks = plan(1, 5, 0.95, 3)
    assert looks.runs == (1, 2, 3, 4, 5) and all(level > 0.95 for level in looks.levels)
    assert looks.level_at(5) == looks.levels[-1] and looks.level_at(9) == looks.levels[-1]
    with pytest.raises(ValueError):
        plan(4, 2, 0.95, 3)


def test_the_stopping_rule_stops_when_every_bound_is_decided_or_at_the_last_look():
    looks = plan(1, 3, 0.95, 3)
    assert analysis.stopping_rule(looks, 1, ["PASS", "FAIL", "NO_DATA"]).why == "decided"
    step = analysis.stopping_rule(looks, 2, ["PASS", "WARN"])
    assert not step.stop and step.why == "undecided" and step.level == looks.levels[1]
    assert analysis.stopping_rule(looks, 3, ["WARN"]).why == "last look"


def test_the_stopping_rule_stops_early_only_when_every_undecided_bound_is_futile():
    looks = plan(1, 5, 0.95, 3)
    assert analysis.stopping_rule(looks, 2, ["PASS", "WARN"], futile=True).why == "futile"
    assert analysis.stopping_rule(looks, 2, ["PASS", "WARN"], futile=True).stop
    assert analysis.stopping_rule(looks, 5, ["WARN"], futile=True).why == "last look"


def between_runs_change(estimate: float, run_sd: float, runs: int, baseline_runs: int = 3) -> Change:
    pooled = PooledRuns(runs, baseline_runs, run_sd, 0.0, run_sd * math.sqrt(1 / runs + 1 / baseline_runs))
    method = Method(MethodKind.BETWEEN_RUNS, runs=pooled)
    return Change("ratio", Interval(estimate, estimate * 0.8, estimate * 1.2, 0.9, method))


def test_a_bound_is_futile_when_the_last_look_could_not_decide_it_as_the_runs_stand():
    looks = plan(1, 5, 0.95, 3)
    assert analysis.futile(between_runs_change(1.0, 0.12, 1), 1.1, looks, 1)  # a bimodal p99: 12 % a run
    assert not analysis.futile(between_runs_change(1.0, 0.032, 1), 1.1, looks, 1)  # 3 % a run: five runs decide it
    assert not analysis.futile(between_runs_change(1.0, 0.12, 5), 1.1, looks, 5)  # the last look is no early stop
    drawn = Change("ratio", Interval(1.0, 0.8, 1.2, 0.9, Method(MethodKind.EXACT)))
    assert not analysis.futile(drawn, 1.1, looks, 1)  # no run spread: nothing to project


def test_conditional_power_by_simulation():
    """The last look's decision rate for runs that follow today's estimate, against the formula."""
    rng = np.random.default_rng(3)
    sd, runs, last, baseline_runs, level, distance = 0.05, 2, 5, 3, 0.96, 0.04
    from validator.stats.intervals import t_quantile

    half = t_quantile(level, last + baseline_runs - 2) * sd * math.sqrt(1 / last + 1 / baseline_runs)
    later = rng.normal(distance, sd / math.sqrt(last - runs), 400_000)  # the mean of the runs to come
    at_last = (runs * distance + (last - runs) * later) / last
    simulated = float((np.abs(at_last) > half).mean())
    assert conditional_power(distance, sd, runs, last, baseline_runs, level) == pytest.approx(simulated, abs=0.003)
    assert conditional_power(distance, sd, last, last, baseline_runs, level) == 1.0


def test_runs_to_decide_uses_the_runs_own_t_and_none_on_the_limit():
    z = float(ndtri(0.95))
    assert runs_to_decide(0.03, 0.0, 0.95) is None
    needed = runs_to_decide(0.03, 0.02, 0.95)
    assert needed is not None and needed > 2 * (z * 0.03 / 0.02) ** 2  # t at 2k - 2 df needs more than z
    assert runs_to_decide(0.03, 0.02 * 4, 0.95) < needed


def test_runs_needed_reads_the_pooled_runs_of_a_between_runs_change():
    runs = PooledRuns(5, 3, 0.11, 0.05, 0.08)
    interval = Interval(1.03, 0.9, 1.18, 0.9, Method(MethodKind.BETWEEN_RUNS, runs=runs))
    needed = analysis.runs_needed(Change("ratio", interval), 1.1, 0.1, 0.95)
    assert needed is not None and needed.run_sd == 0.11
    assert needed.distance == pytest.approx(math.log(1.1 / 1.03)) and needed.margin_needed == pytest.approx(0.18)
    assert needed.runs_a_side is not None and needed.runs_a_side > 5
    drawn = Interval(1.03, 0.9, 1.18, 0.9, Method(MethodKind.EXACT))
    assert analysis.runs_needed(Change("ratio", drawn), 1.1, 0.1, 0.95) is None


def test_auto_spending_is_pocock_type_against_a_baseline_of_many_runs_and_obrien_fleming_type_otherwise():
    assert plan(1, 5, 0.95, 10).spending == "pocock" and plan(1, 5, 0.95, 9).spending == "obrien_fleming"
    assert plan(1, 5, 0.95, None).spending == "obrien_fleming"
    assert plan(1, 5, 0.95, 10, "obrien_fleming").spending == "obrien_fleming"
    assert plan(1, 5, 0.95, 10).levels == plan(1, 5, 0.95, 10, "pocock").levels


def test_spec_reads_repeat_auto_with_its_bounds(tmp_path):
    auto = load_spec(write_spec(tmp_path, 'repeat = "auto"\nmin_repeat = 2\nmax_repeat = 4')).load
    assert (auto.auto_repeat, auto.min_repeat, auto.max_repeat, auto.repeat) == (True, 2, 4, 4)
    fixed = load_spec(write_spec(tmp_path, "repeat = 3")).load
    assert (fixed.auto_repeat, fixed.repeat) == (False, 3)
    pocock = load_spec(write_spec(tmp_path, 'repeat = "auto"\nspending = "pocock"')).load
    assert pocock.spending == "pocock" and auto.spending == "auto"
    bad_specs = (
        'repeat = "sometimes"',
        "max_repeat = 4",
        'repeat = "auto"\nmin_repeat = 5\nmax_repeat = 4',
        'spending = "pocock"',
        'repeat = "auto"\nspending = "linear"',
    )
    for bad in bad_specs:
        with pytest.raises(SpecError):
            load_spec(write_spec(tmp_path, bad))


def test_looks_are_reported_in_words_and_as_values():
    from validator.report.looks import looks_document, looks_lines, runs_needed_sentence

    looks = plan(1, 2, 0.95, 3)
    bounds = (analysis.BoundLook("p99", "+10 % vs baseline", "WARN", 1.02, 0.95, 1.12, "ratio"),)
    first = analysis.Look(analysis.stopping_rule(looks, 1, ["WARN"]), bounds, looks.spending, 2)
    last = analysis.Look(analysis.stopping_rule(looks, 2, ["WARN"]), bounds, looks.spending, 2)
    lines = looks_lines((first, last))
    assert "stopped after 2 of at most 2 runs — max_repeat reached" in lines[0]
    assert "O'Brien–Fleming-type" in lines[0] and "| 2 | " in lines[-1] and "×1.020 [0.950, 1.120]" in lines[-1]
    document = looks_document((first, last))
    assert [d["why"] for d in document] == ["undecided", "last look"] and document[1]["bounds"][0]["status"] == "WARN"
    needed = analysis.RunsNeeded(0.108, 0.129, 0.1, 5, 0.15, True, 0.95)
    assert runs_needed_sentence(needed) == (
        "one run varies by 10.8 % (run-to-run noise and sampling); the estimate is 12.9 % from the limit of a "
        "10 % margin; ≈ 5 runs a side would decide it at the 95 % level, or a margin of 15 % with the runs at hand"
    )
