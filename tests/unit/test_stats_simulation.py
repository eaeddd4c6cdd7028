"""A small, fixed-seed version of benchmarks/stat_quality.py: simulated runs judged by the real gates."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import simulation as sim  # noqa: E402

from validator.judge.verdict import Decision  # noqa: E402
from validator.stats.intervals import MethodKind  # noqa: E402


@pytest.mark.parametrize(("stream", "runs"), [("iid", 3), ("ar1", 3), ("iid", 1), ("bursts", 1)])
def test_same_build_is_never_no_go(stream, runs):
    rng = np.random.default_rng(101)
    decisions = [sim.judge_pair(rng, stream, runs, 3).decision for _ in range(4)]
    assert Decision.NO_GO not in decisions


def test_three_runs_a_side_usually_pass_a_same_build_comparison():
    rng = np.random.default_rng(105)
    trials = [sim.judge_pair(rng, "iid", 3, 3) for _ in range(6)]
    assert sum(t.decision == Decision.GO for t in trials) >= 5
    assert all(t.results[2].change.interval.method.kind == MethodKind.BETWEEN_RUNS for t in trials)


def test_bimodal_p99_is_never_passed_on_three_runs():
    """A 1 % slow path puts p99 between the modes, where one run's p99 varies by ~11 %: it cannot be shown to
    be within a 10 % margin, so the gate must not PASS it."""
    rng = np.random.default_rng(106)
    statuses = [sim.judge_pair(rng, "bimodal", 3, 3).status("p99").value for _ in range(3)]
    assert "PASS" not in statuses


def test_thirty_percent_slower_is_no_go_on_the_p99_gate():
    rng = np.random.default_rng(102)
    trials = [sim.judge_pair(rng, "iid", 3, 3, scale=1.3) for _ in range(3)]
    assert all(t.decision == Decision.NO_GO and t.status("p99").value == "FAIL" for t in trials)


def test_tail_only_regression_is_caught_by_the_p99_gate():
    rng = np.random.default_rng(103)
    trial = sim.judge_pair(rng, "iid", 3, 3, tail_factor=1.5)
    assert trial.status("p99").value == "FAIL" and trial.status("p50").value == "PASS"


def test_block_covers_the_true_p99_of_autocorrelated_runs_more_often_than_exact():
    rng = np.random.default_rng(104)
    truth = sim.true_quantile("ar1", 0.99, runs=20)
    covered = np.array([sim.coverage_trial(rng, "ar1", truth) for _ in range(40)])
    exact, block = covered.mean(axis=0)
    assert block > exact + 0.05  # exact ignores the autocorrelation and under-covers badly


def test_auto_stops_once_decided_and_never_no_goes_a_same_build():
    rng = np.random.default_rng(201)
    trials = [sim.judge_auto(rng, "iid") for _ in range(4)]
    assert all(t.decision != Decision.NO_GO for t in trials)
    for trial in trials:
        assert [s.runs for s in trial.steps] == list(range(1, trial.runs + 1))
        assert trial.steps[-1].stop and not any(s.stop for s in trial.steps[:-1])
        assert trial.steps[-1].why == "decided" or trial.runs == 5
    assert min(t.runs for t in trials) < 5  # some same-build comparisons stop before max_repeat


def test_auto_catches_thirty_percent_slower_before_the_last_look():
    rng = np.random.default_rng(202)
    trials = [sim.judge_auto(rng, "iid", scale=1.3) for _ in range(2)]
    assert all(t.decision == Decision.NO_GO and t.status("p99").value == "FAIL" for t in trials)
    assert all(t.steps[-1].why == "decided" and t.runs < 5 for t in trials)


def test_auto_leaves_the_bimodal_p99_undecided_and_says_how_many_runs_would_decide_it():
    from validator.judge.looks import with_runs_needed

    rng = np.random.default_rng(203)
    trial = sim.judge_auto(rng, "bimodal", max_repeat=3)
    p99 = next(r for r in trial.results if r.gate.name == "p99")
    assert trial.runs == 3 and trial.steps[-1].why == "last look" and p99.status.value == "WARN"
    needed = with_runs_needed(p99, trial.steps[-1].level).runs_needed
    assert needed is not None and needed.run_sd > 0.05 and needed.margin_needed > 0.1
    assert needed.runs_a_side is None or needed.runs_a_side > 3


def test_auto_stops_early_on_a_bimodal_p99_that_five_runs_could_not_decide():
    rng = np.random.default_rng(204)
    trials = [sim.judge_auto(rng, "bimodal") for _ in range(3)]
    assert all(t.decision == Decision.CAUTION and t.steps[-1].why == "futile" and t.runs < 5 for t in trials)
    assert all(t.status("p99").value == "WARN" for t in trials)
