"""change_points: how well `slagate history --changes` and a pinned reference catch what per-release tolerances miss.

Series of releases, each one run whose p99 carries 3 % run-to-run noise (log-normal) and an interval of ±6 %
(its sampling error), fixed seeds, through the real `validator.judge.changes.change_points`:

- **stable**: 30 releases, no change: any change point is a false one (goal ≤ 5 % of series);
- **one step**: +20 % from release 10 of 20: found, and at the right release (goal ≥ 95 %);
- **a late step**: +20 % in the last 2 of 20 releases (what `--last 3` gates on);
- **slow drift**: +3 % a release, the baseline promoted after every release, `max_regression = 15 %`,
  `max_drift = 25 %` against the first release: the release at which each guard first fires (the per-release
  check never does; the drift guard when the total passes 25 %; the change points, which cut a long trend into
  levels).

Each rate is printed with its series count and the simulation's own standard error, sqrt(p(1 - p)/n).

Peer: Apache Otava (E-divisive means over windows, each split and the merge of weak points tested with Student's
t; `otava.analysis.compute_change_points` at the defaults of `otava analyze`: window 50, max p-value 0.001, min
magnitude 0) gets the very same estimates, on their own scale as `otava analyze` would, in its own throw-away
virtual environment (a cache under the temp dir, `--peer-venv`), never a dependency of slagate: it pins numpy 2.2
and pulls cloud clients. One subprocess a scenario reads the series as JSON on stdin and answers the change
points' indices. `otava-test-data`'s `regression_fix` (+20 % for releases 10–14 of 30, then fixed, normal noise
of 3, seeds 1000·seed + i) adds one row for both tools. `--no-peer` skips the peer; when it cannot be installed
one line says why and the table holds slagate's column alone.

    .venv/bin/python benchmarks/change_points.py [--series 300] [--seed 7] [--no-peer] [--peer-venv DIR]
                                                 [--otava-window 50]
"""

import argparse
import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from validator.judge.changes import RunFigure, change_points  # noqa: E402

NOISE, WIDTH, STEP = 0.03, 0.06, 1.20
PEER_PACKAGES = ("apache-otava", "otava")  # PyPI's `hunter` is an unrelated code-tracing toolkit
PEER_EXTRAS = ("otava-test-data",)
OTAVA_SETTINGS: dict[str, float] = {"window_len": 50, "max_pvalue": 0.001, "min_magnitude": 0.0}  # the CLI defaults
REGRESSION_FIX = {"length": 30, "value_normal": 100.0, "value_regression": 120.0, "regression_start": 10,
                  "regression_duration": 5, "sigma": 3.0}
PEER_SCRIPT = """
import json, sys
from importlib import metadata
from otava.analysis import compute_change_points
request = json.load(sys.stdin)
if "generate" in request:
    from otava_test_data import regression_fix
    batch = [regression_fix(**request["generate"], seed=seed).data.tolist() for seed in request["seeds"]]
else:
    batch = request["series"]
points = [[int(p.index) for p in compute_change_points([float(v) for v in values], **request["settings"])[0]]
          for values in batch]
version = "?"
for name in ("apache-otava", "otava"):
    try:
        version = metadata.version(name)
        break
    except metadata.PackageNotFoundError:
        pass
json.dump({"version": version, "series": batch, "points": points}, sys.stdout)
"""


class PeerUnavailable(Exception):
    """The peer could not be installed or run; its message is the one line the benchmark prints."""


@dataclass(frozen=True)
class Peer:
    """The peer's interpreter in its own virtual environment, and the Otava version it runs."""

    python: Path
    version: str


def series(rng: np.random.Generator, levels: list[float]) -> list[RunFigure]:
    """One run per release at each level, with run-to-run noise and its sampling interval."""
    figures = []
    for index, level in enumerate(levels):
        estimate = level * math.exp(rng.normal(0, NOISE))
        figures.append(RunFigure(f"r{index}", f"1.{index}.0", estimate, estimate * math.exp(-WIDTH),
                                 estimate * math.exp(WIDTH)))
    return figures


def figures_of(values: Sequence[float]) -> list[RunFigure]:
    """A series of plain estimates (a generator's) as runs with the same ±6 % sampling interval."""
    return [RunFigure(f"r{i}", f"1.{i}.0", v, v * math.exp(-WIDTH), v * math.exp(WIDTH)) for i, v in enumerate(values)]


def rate(hits: int, n: int) -> str:
    """A share in per cent with its simulation standard error."""
    p = hits / n
    return f"{p * 100:5.1f} % ± {math.sqrt(p * (1 - p) / n) * 100:.1f}"


def ours(batch: Sequence[Sequence[RunFigure]]) -> list[list[int]]:
    """slagate's change points (indices of each new level's first release) for every series of a batch."""
    return [[point.index for point in change_points(figures, ratio=True)] for figures in batch]


def _last_line(text: str) -> str:
    """The line of a tool's output that says why it failed: its last error line, else its last line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or lines or ["no output"])[-1]


def peer_environment(venv: Path) -> Peer:
    """Otava in its own virtual environment at `venv`, created and installed with pip when it is not there yet."""
    python = venv / "bin" / "python"
    probe = "import otava.analysis, otava_test_data"
    if not (python.exists() and subprocess.run([python, "-c", probe], capture_output=True).returncode == 0):
        print(f"peer: installing Apache Otava into its own venv {venv} (once)", file=sys.stderr)
        shutil.rmtree(venv, ignore_errors=True)
        made = subprocess.run([sys.executable, "-m", "venv", venv], capture_output=True, text=True)
        if made.returncode != 0:
            raise PeerUnavailable(f"python -m venv {venv} failed: {_last_line(made.stderr)}")
        failures = []
        for package in PEER_PACKAGES:
            pip: list[str | Path] = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                                     package, *PEER_EXTRAS]
            try:
                installed = subprocess.run(pip, capture_output=True, text=True, timeout=900)
            except subprocess.TimeoutExpired:
                failures.append(f"pip install {package} timed out")
                continue
            if installed.returncode == 0:
                break
            failures.append(f"pip install {package}: {_last_line(installed.stderr)}")
        else:
            shutil.rmtree(venv, ignore_errors=True)
            raise PeerUnavailable("; ".join(failures))
    return Peer(python, str(run_peer(python, {"series": [], "settings": OTAVA_SETTINGS})["version"]))


def run_peer(python: Path, request: dict[str, Any]) -> dict[str, Any]:
    """One subprocess in the peer's environment: the request as JSON on stdin, its answer as JSON on stdout."""
    try:
        done = subprocess.run([python, "-c", PEER_SCRIPT], input=json.dumps(request), capture_output=True,
                              text=True, timeout=1800)
    except subprocess.TimeoutExpired as timeout:
        raise PeerUnavailable(f"Otava's subprocess timed out after {timeout.timeout:g} s") from timeout
    if done.returncode != 0:
        raise PeerUnavailable(f"Otava's subprocess failed: {_last_line(done.stderr)}")
    return json.loads(done.stdout)


def theirs(peer: Peer, batch: Sequence[Sequence[RunFigure]], settings: dict[str, float]) -> list[list[int]]:
    """Otava's change points for every series of a batch, on the same estimates slagate judged."""
    values = [[figure.estimate for figure in figures] for figures in batch]
    answer = run_peer(peer.python, {"series": values, "settings": settings})
    return [list(points) for points in answer["points"]]


def peer_found(peer: Peer, batches: dict[str, list[list[RunFigure]]], settings: dict[str, float], seed: int,
               n: int) -> dict[str, list[list[int]]]:
    """Otava's change points for every batch, then for otava-test-data's `regression_fix` series, which are added
    to `batches` so that slagate judges the very same values."""
    found = {name: theirs(peer, batch, settings) for name, batch in batches.items()}
    generated = run_peer(peer.python, {"generate": REGRESSION_FIX, "seeds": [seed * 1000 + i for i in range(n)],
                                       "settings": settings})
    batches["regression_fix"] = [figures_of(values) for values in generated["series"]]
    found["regression_fix"] = [list(points) for points in generated["points"]]
    return found


RATES = (  # (batch, row, goal, whether one series' change points count)
    ("stable", "stable 30 releases: a false change point", "≤ 5 %", lambda points: bool(points)),
    ("step", "+20 % step at release 10 of 20: found", "≥ 95 %", lambda points: bool(points)),
    ("step", "  … at the right release", "≥ 95 %", lambda points: 10 in points),
    ("late", "+20 % step in the last 2 of 20: found", "", lambda points: 18 in points),
    ("trend", "+3 %/release for 15: a change point found", "", lambda points: bool(points)),
    ("regression_fix", "regression_fix +20 % for 5 of 30: both placed", "", lambda points: {10, 15} <= set(points)),
)
FIRST_ROW = "+3 %/release: the first change point (median)"
DRIFT_ROW = "+3 %/release: estimate past max_drift 25 % at"


def column(found: dict[str, list[list[int]]]) -> dict[str, str]:
    """One tool's cells by row: each rate of RATES for the batches it was given, and the trend's median first
    change point."""
    cells = {label: rate(sum(bool(counts(points)) for points in found[batch]), len(found[batch]))
             for batch, label, _, counts in RATES if found.get(batch)}
    firsts = [points[0] for points in found["trend"] if points]
    cells[FIRST_ROW] = f"release {statistics.median(firsts):g}" if firsts else "never"
    return cells


def summary(found: dict[str, list[list[int]]]) -> str:
    """The last line's figures: false change points in stable series and steps placed at the right release."""
    false = sum(bool(points) for points in found["stable"]) / len(found["stable"]) * 100
    right = sum(10 in points for points in found["step"]) / len(found["step"]) * 100
    return f"{false:.1f} % false in stable series, {right:.1f} % of steps placed right"


def main() -> None:
    """Simulate the series once, judge them with slagate and with Otava, and print the table side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-peer", action="store_true", help="leave Apache Otava out")
    parser.add_argument("--peer-venv", type=Path, default=Path(tempfile.gettempdir()) / "slagate-peer-otava",
                        help="the peer's own virtual environment, made there when missing (default: %(default)s)")
    parser.add_argument("--otava-window", type=int, default=OTAVA_SETTINGS["window_len"],
                        help="Otava's window_len (default: %(default)s, as `otava analyze`)")
    args = parser.parse_args()
    rng, n = np.random.default_rng(args.seed), args.series
    batches: dict[str, list[list[RunFigure]]] = {"stable": [series(rng, [0.1] * 30) for _ in range(n)],
                                                 "step": [], "late": []}
    for _ in range(n):
        batches["step"].append(series(rng, [0.1] * 10 + [0.1 * STEP] * 10))
        batches["late"].append(series(rng, [0.1] * 18 + [0.1 * STEP] * 2))
    batches["trend"] = [series(rng, [0.1 * 1.03**release for release in range(15)]) for _ in range(n)]
    drift_fired = [next((release for release, figure in enumerate(figures)
                         if figure.estimate / figures[0].estimate > 1.25), 99) for figures in batches["trend"]]
    heads: list[str] = ["slagate"]
    theirs_found: dict[str, list[list[int]]] = {}
    settings = {**OTAVA_SETTINGS, "window_len": args.otava_window}
    if not args.no_peer:
        try:
            peer = peer_environment(args.peer_venv)
            theirs_found = peer_found(peer, batches, settings, args.seed, n)
        except PeerUnavailable as error:
            print(f"peer: Apache Otava not run: {error}")
            batches.pop("regression_fix", None)
        else:
            shown = ", ".join(f"{key}={value:g}" for key, value in settings.items())
            print(f"peer: Apache Otava {peer.version}, otava.analysis.compute_change_points({shown}) on the "
                  f"same estimates, in its own venv {args.peer_venv}")
            heads.append(f"Otava {peer.version}")
    ours_found = {name: ours(batch) for name, batch in batches.items()}
    columns = [column(ours_found)] + ([column(theirs_found)] if theirs_found else [])
    rows = [(label, goal) for batch, label, goal, _ in RATES if batch in batches] + [(FIRST_ROW, "")]
    print(f"{f'series ({n} each, seed {args.seed})':<50}" + "".join(f" {head:>16}" for head in heads) + "  goal")
    for label, goal in rows:
        print(f"{label:<50}" + "".join(f" {cells[label]:>16}" for cells in columns) + f"  {goal}".rstrip())
    fired = f"release {statistics.median(drift_fired):g}"
    print(f"{DRIFT_ROW:<50} {fired:>16}" + f" {'—':>16}" * (len(columns) - 1) + "  (max_regression 15 %: never)")
    peer_summary = f" ({heads[1]}: {summary(theirs_found)})" if theirs_found else ""
    print(f"change_points: {summary(ours_found)}{peer_summary}")


if __name__ == "__main__":
    main()
