"""Proof by simulation: false NO-GO / CAUTION in A/A, power, smallest detected regression, coverage.

Usage: .venv/bin/python benchmarks/stat_quality.py [--trials 500 | --quick] [--processes 2]
Every trial goes through the real code path (client histograms per window → evidence → gates → verdict)
with run-to-run noise (3 % per run; the `repeat = "auto"` rows also at 1 % and 6 %); streams are cycled over
iid, AR(1), bimodal and bursts. Fixed seeds. Each rate is printed with its trial count and the simulation's own
standard error, sqrt(p(1 - p)/n).
"""

import argparse
import math
import sys
from collections.abc import Callable
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from scipy.stats import mannwhitneyu

sys.path.insert(0, str(Path(__file__).resolve().parent))
import simulation as sim  # noqa: E402

from validator.stats.sequential import DEFAULT_SPENDING, SPENDING_CHOICES, spending_for  # noqa: E402

SEED = 20261123
SWEEP = (1.10, 1.15, 1.20, 1.30)
QUICK_TRIALS = 48  # --quick: trials per main row (a multiple of 4, so every stream gets as many)
AUTO_NOISES = (0.03, 0.01, 0.06)  # run-to-run noise of the repeat = "auto" rows
COVERAGE_TRIALS_PER_TRIAL = 4  # coverage trials are cheap: 4× as many keep its standard error near 0.5 %


def _rng(*keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([SEED, *keys]))


def verdict_trial(args: tuple[int, float, int, str]) -> str:
    """One judged pair, k runs a side (a 3-run baseline at k = 1), the candidate slowed by `scale`; A/A trials
    (scale 1) and slowed ones draw from separate seed streams, shared by every multiplicity setting."""
    k, scale, index, multiplicity = args
    keys = (1, k, index) if scale == 1.0 else (2, k, int(scale * 100), index)
    trial = sim.judge_pair(_rng(*keys), sim.STREAMS[index % 4], k, max(k, 3), scale, multiplicity=multiplicity)
    return trial.decision.value


def auto_trial(args: tuple[float, int, float, str, int]) -> tuple[str, int, str]:
    """One `repeat = "auto"` comparison against a baseline of `baseline_runs` runs, 1 to 5 candidate runs:
    (verdict, runs used, the p99 gate's runs-needed sentence when it stayed undecided). Seeds apart from the
    fixed-k trials'; the same for every spending function and baseline size."""
    scale, index, noise, spending, baseline_runs = args
    rng = _rng(5, int(round(noise * 1000)), int(round(scale * 100)), index)
    stream = sim.STREAMS[index % 4]
    trial = sim.judge_auto(rng, stream, baseline_runs, scale=scale, run_noise=noise, spending=spending)
    p99 = next(r for r in trial.results if r.gate.name == "p99")
    return trial.decision.value, trial.runs, _runs_needed_words(p99)


def _runs_needed_words(result: object) -> str:
    from validator.judge.looks import with_runs_needed
    from validator.report.looks import runs_needed_sentence

    filled = with_runs_needed(result, 0.95)  # type: ignore[arg-type]
    return runs_needed_sentence(filled.runs_needed) if filled.runs_needed is not None else ""


def _pct(share: float, n: int) -> str:
    """A rate with its trial count and the simulation's standard error."""
    return f"{share * 100:.1f} % ± {math.sqrt(share * (1 - share) / n) * 100:.1f} (n={n})"


def _trials(k: int, scale: float, count: int, multiplicity: str = "margin") -> list[tuple[int, float, int, str]]:
    return [(k, scale, i, multiplicity) for i in range(count)]


def _rate(outcome: str) -> Callable[[list], float]:
    """The share of `outcome` among a list of verdicts."""
    return lambda part: part.count(outcome) / len(part)


def tail_trial(index: int) -> tuple[bool, bool]:
    """(p99 gate FAILs, Mann-Whitney p < 0.05) for requests above p95 made 20 % slower, k = 3."""
    rng = _rng(3, index)
    trial = sim.judge_pair(rng, "iid", 3, 3, tail_factor=1.2)
    base = sim.latencies(rng, "iid").ravel()
    cand = sim.latencies(rng, "iid", tail_factor=1.2).ravel()
    return trial.status("p99").value == "FAIL", mannwhitneyu(cand, base, alternative="greater").pvalue < 0.05


def coverage_trial(args: tuple[str, float, int]) -> tuple[bool, bool]:
    stream, truth, index = args
    return sim.coverage_trial(_rng(4, sim.STREAMS.index(stream), index), stream, truth)


def _by_stream(outcomes: list, share: Callable[[list], float]) -> str:
    """`share` of each stream's trials (streams are cycled, so stream i holds trials i, i+4, ...)."""
    return ", ".join(f"{stream} {share(outcomes[i::4]) * 100:.0f} %" for i, stream in enumerate(sim.STREAMS))


def run(pool: Pool, function: Callable, items: list) -> list:  # type: ignore[type-arg]
    return pool.map(function, items, chunksize=4)


def _auto_rows(
    pool: Pool,  # type: ignore[type-arg]
    n: int,
    noise: float,
    rows: list[tuple[str, str, str]],
    design: tuple[str, int],
) -> dict[str, float]:
    """The `repeat = "auto"` rows at one run-noise level: A/A, +20 %, exactly at the limit (+10 %); `design` is
    the spending function and the baseline's runs."""
    tag = f"auto, noise {noise * 100:g} %"
    same = run(pool, auto_trial, [(1.0, i, noise, *design) for i in range(n)])
    decisions, used = [d for d, _, _ in same], [r for _, r, _ in same]
    runs_se = float(np.std(used, ddof=1) / math.sqrt(n))
    caution = _by_stream(decisions, _rate("CAUTION"))
    rows.append(
        (
            f"A/A {tag}: false NO-GO",
            _pct(decisions.count("NO-GO") / n, n),
            f"≤ 1 %; {_by_stream(decisions, _rate('NO-GO'))}",
        )
    )
    rows.append(
        (f"A/A {tag}: false CAUTION", _pct(decisions.count("CAUTION") / n, n), f"≤ 5 % (p99 SD ≤ 3 %); {caution}")
    )
    mean_runs = ", ".join(f"{st} {np.mean(used[i::4]):.2f}" for i, st in enumerate(sim.STREAMS))
    rows.append((f"A/A {tag}: mean runs", f"{np.mean(used):.2f} ± {runs_se:.2f} (n={n})", f"≤ 2.0; {mean_runs}"))
    slower = run(pool, auto_trial, [(1.20, i, noise, *design) for i in range(n)])
    hits = [d == "NO-GO" for d, _, _ in slower]
    slow_runs = [r for _, r, _ in slower]
    never_go = sum(d == "GO" for d, _, _ in slower[2::4])
    rows.append(
        (
            f"power {tag}: NO-GO at +20 %",
            _pct(float(np.mean(hits)), n),
            f"≥ 97 %; {_by_stream(hits, np.mean)}; mean runs {np.mean(slow_runs):.2f} "
            f"± {np.std(slow_runs, ddof=1) / math.sqrt(n):.2f} (≤ 2.5); bimodal GO {never_go} of {len(slower[2::4])}",
        )
    )
    limit = run(pool, auto_trial, [(1.10, i, noise, *design) for i in range(n)])
    verdicts = [d for d, _, _ in limit]
    rows.append(
        (
            f"at the limit (+10 %) {tag}: GO / NO-GO",
            f"{_pct(verdicts.count('GO') / n, n)} / {_pct(verdicts.count('NO-GO') / n, n)}",
            f"≤ 5 % each, per stream: GO {_by_stream(verdicts, _rate('GO'))}; "
            f"NO-GO {_by_stream(verdicts, _rate('NO-GO'))}",
        )
    )
    sentence = next((words for _, _, words in same[2::4] if words), "")
    if sentence:
        rows.append((f"bimodal A/A {tag}: p99 left WARN", "(example)", sentence))
    return {
        "nogo": decisions.count("NO-GO") / n,
        "caution": decisions.count("CAUTION") / n,
        "runs": float(np.mean(used)),
        "power": float(np.mean(hits)),
        "power_runs": float(np.mean(slow_runs)),
    }


def _fixed_rows(pool: Pool, n: int, rows: list[tuple[str, str, str]]) -> tuple[dict, dict]:  # type: ignore[type-arg]
    """The fixed-size rows (k = 1, 3, 5): A/A, power sweep, at the limit, Bonferroni."""
    aa = {}
    for k in (1, 3):
        decisions = run(pool, verdict_trial, _trials(k, 1.0, n))
        aa[k] = (decisions.count("NO-GO") / n, decisions.count("CAUTION") / n)
        no_go = _by_stream(decisions, _rate("NO-GO"))
        rows.append((f"A/A k={k}: false NO-GO", _pct(aa[k][0], n), f"≤ 1 %; {no_go}"))
        by_stream = _by_stream(decisions, _rate("CAUTION"))
        rows.append((f"A/A k={k}: false CAUTION", _pct(aa[k][1], n), f"≤ 5 %; {by_stream}"))
    detected = {}
    for k in (1, 3):
        for scale in SWEEP:
            trials = n if math.isclose(scale, 1.20) or math.isclose(scale, 1.10) else max(50, n // 4)
            decisions = run(pool, verdict_trial, _trials(k, scale, trials))
            hits = [d == "NO-GO" for d in decisions]
            detected[(k, scale)] = float(np.mean(hits))
            if math.isclose(scale, 1.20):
                by_stream = _by_stream(hits, np.mean)
            if math.isclose(scale, 1.10):
                at_limit = (
                    f"at the limit (every quantile +10 %), k={k}: GO / NO-GO",
                    f"{_pct(decisions.count('GO') / trials, trials)} / {_pct(detected[(k, scale)], trials)}",
                    f"≤ 5 % each; GO {_by_stream(decisions, _rate('GO'))}; "
                    f"NO-GO {_by_stream(decisions, _rate('NO-GO'))}",
                )
        rows.append(
            (
                f"power k={k}: NO-GO at p99 +20 % (2 × max_regression)",
                _pct(detected[(k, 1.20)], n),
                f"≥ 95 % at k=3; {by_stream}",
            )
        )
        smallest = next((f"+{(s - 1) * 100:.0f} %" for s in SWEEP if detected[(k, s)] >= 0.8), "> +30 %")
        sweep = ", ".join(f"+{(s - 1) * 100:.0f} %: {detected[(k, s)] * 100:.0f} %" for s in SWEEP)
        rows.append((f"k={k}: smallest regression with NO-GO ≥ 80 %", smallest, sweep))
        rows.append(at_limit)
    same = run(pool, verdict_trial, _trials(3, 1.0, n, "bonferroni"))
    slower = run(pool, verdict_trial, _trials(3, 1.20, n, "bonferroni"))
    rows.append(
        (
            'k=3, multiplicity "bonferroni": A/A NO-GO / power',
            f"{_pct(same.count('NO-GO') / n, n)} / {_pct(slower.count('NO-GO') / n, n)}",
            f"A/A CAUTION {same.count('CAUTION') / n * 100:.1f} % (same trials as the k=3 rows above)",
        )
    )
    many = max(50, n // 2)  # k = 5 runs a side: what more runs buy (half the trials: each costs 10 runs)
    decisions = run(pool, verdict_trial, _trials(5, 1.0, many))
    caution = _by_stream(decisions, _rate("CAUTION"))
    rows.append(
        (
            "A/A k=5: false NO-GO / false CAUTION",
            f"{_pct(decisions.count('NO-GO') / many, many)} / {_pct(decisions.count('CAUTION') / many, many)}",
            f"CAUTION {caution}",
        )
    )
    hits = [d == "NO-GO" for d in run(pool, verdict_trial, _trials(5, 1.20, many))]
    detected[(5, 1.20)] = float(np.mean(hits))
    rows.append(("power k=5: NO-GO at p99 +20 %", _pct(detected[(5, 1.20)], many), _by_stream(hits, np.mean)))
    return aa, detected


def _check_rows(pool: Pool, n: int, rows: list[tuple[str, str, str]]) -> dict:  # type: ignore[type-arg]
    """The tail-only row, one run's p99 spread, and coverage."""
    tail = run(pool, tail_trial, list(range(max(50, n // 2))))
    rows.append(
        (
            "tail-only +20 % above p95, k=3: p99 gate FAIL",
            _pct(float(np.mean([t[0] for t in tail])), len(tail)),
            f"Mann-Whitney p<0.05: {np.mean([t[1] for t in tail]) * 100:.1f} %",
        )
    )
    spreads = ", ".join(f"{stream} {sim.run_spread(stream, 0.99) * 100:.1f} %" for stream in sim.STREAMS)
    rows.append(("one run's p99, SD between runs without run noise", "(sampling)", spreads))
    coverage = {}
    for stream in ("iid", "ar1", "bursts"):
        truth = sim.true_quantile(stream, 0.99)
        covered = run(pool, coverage_trial, [(stream, truth, i) for i in range(COVERAGE_TRIALS_PER_TRIAL * n)])
        coverage[stream] = (np.mean([c[0] for c in covered]), np.mean([c[1] for c in covered]))
        rows.append(
            (
                f"coverage of 95 % p99 interval, {stream}",
                f"exact {_pct(coverage[stream][0], len(covered))}",
                f"block {coverage[stream][1] * 100:.1f} % (goal 93–97 % on autocorrelated)",
            )
        )
    return coverage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=500)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_TRIALS} trials a main row, for development")
    parser.add_argument("--only-auto", action="store_true", help='only the repeat = "auto" rows')
    parser.add_argument("--spending", default=DEFAULT_SPENDING, choices=SPENDING_CHOICES)
    parser.add_argument("--baseline-runs", type=int, default=3, help='runs of the baseline the "auto" rows use')
    args = parser.parse_args()
    n = QUICK_TRIALS if args.quick else args.trials
    if args.quick:
        print(f"--quick: {n} trials a main row (not the documented figures)")
    rows: list[tuple[str, str, str]] = []
    with Pool(args.processes) as pool:
        aa, detected, coverage = {}, {}, {}
        if not args.only_auto:
            aa, detected = _fixed_rows(pool, n, rows)
        design = (args.spending, args.baseline_runs)
        auto = {noise: _auto_rows(pool, n, noise, rows, design) for noise in AUTO_NOISES}
        if not args.only_auto:
            coverage = _check_rows(pool, n, rows)
    width, shown = (max(len(r[i]) for r in rows) for i in (0, 1))
    print(f"{'measure':<{width}} | {'value':<{shown}} | goal / detail")
    print(f"{'-' * width}-|-{'-' * shown}-|-{'-' * 40}")
    for name, value, detail in rows:
        print(f"{name:<{width}} | {value:<{shown}} | {detail}")
    print(
        f"({n} trials per A/A, +10 % and +20 % row at k=1 and k=3, {max(50, n // 2)} at k=5 and for the tail row, "
        f"{max(50, n // 4)} per other sweep point, "
        f"{COVERAGE_TRIALS_PER_TRIAL * n} per coverage row; streams cycled; "
        f"{sim.WINDOWS} s × {sim.RATE}/s per run; run noise {sim.RUN_NOISE * 100:g} %; "
        "each bound judged on one-sided 95 % bounds, multiplicity held by the margins)"
    )
    a = auto[sim.RUN_NOISE]
    spending = spending_for(args.spending, args.baseline_runs)
    if spending != args.spending:
        spending = f"{args.spending}: {spending}"
    print(f'repeat = "auto": min_repeat 1, max_repeat 5, a {args.baseline_runs}-run baseline, {spending} spending')
    print(
        f"stat_quality auto (3 % noise, {args.baseline_runs}-run baseline, {spending}): "
        f"A/A NO-GO {a['nogo'] * 100:.1f} % CAUTION {a['caution'] * 100:.1f} % "
        f"runs {a['runs']:.2f}; power(+20 %) {a['power'] * 100:.0f} % runs {a['power_runs']:.2f}"
    )
    if args.only_auto:
        return
    print(
        f"stat_quality: A/A false NO-GO k1 {aa[1][0] * 100:.1f} % k3 {aa[3][0] * 100:.1f} %, false CAUTION "
        f"k1 {aa[1][1] * 100:.1f} % k3 {aa[3][1] * 100:.1f} %; power(+20 %) k1 {detected[(1, 1.2)] * 100:.0f} % "
        f"k3 {detected[(3, 1.2)] * 100:.0f} % k5 {detected[(5, 1.2)] * 100:.0f} %; "
        f"coverage AR(1) exact {coverage['ar1'][0] * 100:.0f} % "
        f"block {coverage['ar1'][1] * 100:.0f} %"
    )


if __name__ == "__main__":
    main()
