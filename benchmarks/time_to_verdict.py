"""time_to_verdict: the seconds a `slagate run` spends outside its load, and where they go.

Two cases, each a real `slagate run` as a subprocess with a short load (10 s, 2 s warm-up) of the demo spec:
- **own service**: the demo target and a real Prometheus are already running and scraped (as a user's service and
  Prometheus are), and the run is pointed at them with ENDPOINT and PROMETHEUS_URL;
- **demo**: `slagate run --demo`, which starts the demo target and its Prometheus itself.

Each line slagate prints is timestamped as it arrives; the phases are read from them: start → the run line
(imports, spec, baseline, and for the demo its stack up and scraped), → the first load line (preflight: Prometheus
and the target asked, the locustfile imported, the first second of load), the load itself, and the load's end
(`load.json written`) → the verdict line (waiting for a scrape after the window, queries, judging, charts,
writing) → exit. Outside the load is the whole wall time less the load's duration; the last line gives it for both
cases.

    .venv/bin/python benchmarks/time_to_verdict.py [--rounds 2]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import demo_spec  # noqa: E402  (the suite's short demo spec: absolute paths, 2 s warm-up)
from validator.demo.stack import demo_stack  # noqa: E402

DURATION_S = 10.0
MARKS = (  # phase name, the text of the stderr line that ends it
    ("start → run line", "slagate: run "),
    ("run line → 1st load line", "slagate: load 1/"),  # preflight, then the load's first second
    ("→ load end", "load.json written"),
    ("load end → verdict", "slagate: verdict "),
)


def timed_run(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run `command`; the seconds from its start to the first output line holding each mark, and to its exit."""
    started = time.monotonic()
    seen: dict[str, float] = {}
    process = subprocess.Popen(command, env=env, stderr=subprocess.STDOUT, stdout=subprocess.PIPE, text=True,
                               cwd=ROOT)
    assert process.stdout is not None
    buffer = ""
    while True:
        chunk = process.stdout.read(1)
        if not chunk:
            break
        buffer += chunk
        if chunk not in "\r\n":
            continue
        for _, mark in MARKS:
            if mark in buffer and mark not in seen:
                seen[mark] = time.monotonic() - started
        buffer = ""
    process.wait()
    seen["exit"] = time.monotonic() - started
    missing = [mark for _, mark in MARKS if mark not in seen]
    if missing or process.returncode not in (0, 1, 3):
        sys.exit(f"the run did not complete (exit {process.returncode}; missing {missing})")
    return seen


def phases(seen: dict[str, float]) -> dict[str, float]:
    """Each phase's seconds from the marks' times."""
    times = [0.0, *(seen[mark] for _, mark in MARKS), seen["exit"]]
    names = [name for name, _ in MARKS] + ["verdict → exit"]
    return {name: later - earlier for name, earlier, later in zip(names, times[:-1], times[1:], strict=True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="runs per case (interleaved)")
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {"own service": [], "demo": []}
    with tempfile.TemporaryDirectory(prefix="slagate-bench-ttv-") as temporary, demo_stack() as stack:
        folder = Path(temporary)
        spec = demo_spec(folder, duration=f"{DURATION_S:g}s")
        base = [sys.executable, "-m", "validator.cli", "run", "--spec", str(spec)]
        own_env = {**os.environ, "ENDPOINT": stack.target.url, "PROMETHEUS_URL": stack.prometheus.url}
        for round_ in range(args.rounds):
            reports = folder / f"reports-{round_}"
            results["own service"].append(phases(timed_run([*base, "--reports-dir", str(reports)], own_env)))
            demo = [*base, "--demo", "--reports-dir", str(reports)]
            results["demo"].append(phases(timed_run(demo, dict(os.environ))))
    names = [name for name, _ in MARKS] + ["verdict → exit"]
    print(f"{'phase (median s)':<28}" + "".join(f"{case:>14}" for case in results))
    for name in names:
        medians = (statistics.median(r[name] for r in rows) for rows in results.values())
        print(f"{name:<28}" + "".join(f"{median:>14.2f}" for median in medians))
    outside = {case: statistics.median(sum(r.values()) - DURATION_S for r in rows)
               for case, rows in results.items()}
    print(f"{'outside the load':<28}" + "".join(f"{outside[case]:>14.2f}" for case in results))
    print(f"time_to_verdict: {outside['own service']:.2f} s outside the load (own service), "
          f"{outside['demo']:.2f} s (demo)")


if __name__ == "__main__":
    main()
