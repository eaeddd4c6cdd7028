"""How often the client/server reconciliation warns on a same-build run, and how often it catches a wrong reading.

Each trial simulates one run: requests complete over time at a rate that drifts from second to second (or in
bursts), each fails with some probability; the service's counter is scraped at a fixed interval with a random
phase and a little jitter, and Prometheus's `increase()` is computed over the steady window exactly as Prometheus
2.x computes it (first to last sample in the range, extrapolated to the range's edges by at most one average
sample gap, never below zero). The client counts the same completions by 1-s windows. Both go through the real
`validator.measure.reconciliation.reconcile`; a flagged gap on a run where nothing is wrong is a false alarm.

    .venv/bin/python benchmarks/reconcile_false_alarm.py [--trials 400] [--seed 7]

The last line is `reconcile_false_alarm: <rate> ± <standard error>`, over every scenario.
"""

import argparse
import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from validator.measure.reconciliation import ClientCounts, ServerCounts, reconcile

LEAD_S = 15.0  # traffic before and after the window, as warm-up and the tail of a real load


@dataclass(frozen=True)
class Scenario:
    """One kind of same-build run."""

    rate: float  # requests per second
    error_share: float  # each request fails with this probability
    scrape_s: float
    window_s: float
    stream: str  # "steady": rate drifts ±10 % a second; "bursts": 2-s bursts at ×2 and error bursts
    server_delay_s: float = 0.0005  # the service counts a request this long before the client sees its answer


SCENARIOS = [
    Scenario(rate, errors, scrape, window, stream)
    for rate in (5.0, 80.0, 800.0)
    for errors in (0.0, 0.002, 0.1)
    for scrape, window in ((1.0, 25.0), (5.0, 60.0), (15.0, 120.0))
    for stream in ("steady", "bursts")
]


def completions(rng: np.random.Generator, s: Scenario, span: float) -> tuple[np.ndarray, np.ndarray]:
    """(completion times, failed) of every request over [0, span), sorted by time."""
    seconds = int(math.ceil(span))
    rates = s.rate * rng.lognormal(0.0, 0.1, seconds)
    error_shares = np.full(seconds, s.error_share)
    if s.stream == "bursts":
        starts = rng.random(seconds) < 0.05
        burst = starts | np.roll(starts, 1)
        rates = np.where(burst, rates * 2.0, rates)
        error_shares = np.where(burst & (s.error_share > 0), np.minimum(1.0, error_shares * 5), error_shares)
    counts = rng.poisson(rates)
    times = np.repeat(np.arange(seconds, dtype=float), counts) + rng.random(int(counts.sum()))
    failed = rng.random(times.size) < np.repeat(error_shares, counts)
    order = np.argsort(times)
    return times[order], failed[order]


def prometheus_increase(samples_t: np.ndarray, samples_v: np.ndarray, start: float, end: float) -> float | None:
    """Prometheus 2.x `increase(counter[end - start])` evaluated at `end` over samples (no counter resets)."""
    inside = (samples_t >= start) & (samples_t <= end)
    t, v = samples_t[inside], samples_v[inside]
    if t.size < 2:
        return None
    result = float(v[-1] - v[0])
    to_start, to_end = t[0] - start, end - t[-1]
    sampled = t[-1] - t[0]
    average = sampled / (t.size - 1)
    if result > 0 and v[0] >= 0:
        to_start = min(to_start, sampled * (v[0] / result))
    threshold = average * 1.1
    extended = sampled + (to_start if to_start < threshold else average / 2) + (to_end if to_end < threshold else
                                                                                average / 2)
    return result * extended / sampled


def trial(rng: np.random.Generator, s: Scenario) -> tuple[bool, bool]:
    """One same-build run: whether the reconciliation flagged it as it is, and with an error_regex that matches no
    value (the server counting no errors at all)."""
    span = s.window_s + 2 * LEAD_S
    times, failed = completions(rng, s, span)
    start, end = LEAD_S, LEAD_S + s.window_s
    jitter = rng.normal(0.0, 0.002 * s.scrape_s, int(span / s.scrape_s) + 2)
    scrapes = rng.random() * s.scrape_s + np.arange(jitter.size) * s.scrape_s + jitter
    scrapes = scrapes[scrapes < span]
    counted_at = times - s.server_delay_s
    total = np.searchsorted(counted_at, scrapes, side="right").astype(float)
    error_times = counted_at[failed]
    errors_at = np.searchsorted(error_times, scrapes, side="right").astype(float)
    server_requests = prometheus_increase(scrapes, total, start, end)
    server_errors = prometheus_increase(scrapes, errors_at, start, end)
    if server_requests is None or server_errors is None:
        return False, False
    in_window = (times >= start) & (times < end)
    slots = np.floor(times[in_window] - start).astype(int)
    per_second = np.bincount(slots, minlength=int(s.window_s))
    failures_per_second = np.bincount(slots[failed[in_window]], minlength=int(s.window_s))
    client = ClientCounts(
        requests=int(in_window.sum()),
        failures=int(failed[in_window].sum()),
        seconds=s.window_s,
        requests_dispersion=_dispersion(per_second),
        failures_dispersion=_dispersion(failures_per_second),
        failure_statuses={"500": int(failed.sum())},
    )
    server = ServerCounts(
        requests=server_requests, errors=server_errors, values={"200": 1.0, "500": 1.0},
        error_values={"500": server_errors}, unlabelled=0.0, error_label="code", error_regex="5..",
        selector="", counter="requests_total", scrape_interval=s.scrape_s,
    )
    wrong = dataclasses.replace(server, errors=0.0, error_values={})
    return reconcile(client, server).flagged, reconcile(client, wrong).flagged


def _rate(hits: int, runs: int) -> str:
    share = hits / runs
    return f"{share * 100:.2f} % ± {math.sqrt(share * (1 - share) / runs) * 100:.2f} (n={runs})"


def _dispersion(counts: np.ndarray) -> float:
    mean = float(counts.mean())
    return float(counts.var(ddof=1)) / mean if mean > 0 else 1.0


def rates(trials: int, seed: int) -> Iterator[tuple[Scenario, int, int, int]]:
    """(scenario, false alarms, wrong readings caught, trials) for every scenario, seeded once."""
    rng = np.random.default_rng(seed)
    for scenario in SCENARIOS:
        results = [trial(rng, scenario) for _ in range(trials)]
        yield scenario, sum(same for same, _ in results), sum(wrong for _, wrong in results), trials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=400, help="same-build runs per scenario")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print("| rate | errors | scrape | window | stream | false alarms (same build) | caught (regex matching none) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    flagged_all = runs_all = 0
    for s, flagged, caught, runs in rates(args.trials, args.seed):
        flagged_all, runs_all = flagged_all + flagged, runs_all + runs
        power = _rate(caught, runs) if s.error_share > 0 else "—"
        print(f"| {s.rate:g}/s | {s.error_share * 100:g} % | {s.scrape_s:g} s | {s.window_s:g} s | {s.stream} | "
              f"{_rate(flagged, runs)} | {power} |")
    rate = flagged_all / runs_all
    error = math.sqrt(rate * (1 - rate) / runs_all)
    print(f"reconcile_false_alarm: {rate * 100:.2f} % ± {error * 100:.2f} % of {runs_all} same-build runs")


if __name__ == "__main__":
    main()
