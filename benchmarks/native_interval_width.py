"""How wide a native histogram's intervals are against classic buckets, at the same load on the same service.

One Go service (validator/demo/native_service, lognormal latency with a 20 ms median) is run twice per round:
exposing a native histogram (bucket factor 1.1) to a Prometheus with `--enable-feature=native-histograms`, and
exposing classic buckets only (the demo target's geometric ones, ratio 1.05) to a plain Prometheus. Each gets the
same real `slagate run` (20 users, 30 s, 5 s warm-up); the table gives each gate's interval width relative to its
estimate, from verdict.json, the median over the rounds: one round's ratio swings (0.89 and 1.70 were seen) with
where p99 falls against either form's bucket edges. Installs Go and client_golang with apt-get when missing (as root).

    .venv/bin/python benchmarks/native_interval_width.py [--rounds 3]

The last line is `native_interval_width: <native ÷ classic relative width of the p99 interval>`.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import median

from validator.demo import native
from validator.demo.prometheus_server import ManagedPrometheus

GATES = "".join(f'[[gates]]\nname = "{q}"\nmetric = "latency_{q}"\nmax = "1s"\n' for q in ("p99", "p95", "p50"))


def install() -> None:
    """Go and client_golang from Debian when missing (root only), as run_validation.sh does for the tests."""
    if native.missing() and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "golang-go", "golang-github-prometheus-client-golang-dev"],
                       check=False, capture_output=True)
    problem = native.missing()
    if problem:
        sys.exit(f"native_interval_width: {problem}")


def widths(binary: Path, folder: Path, form: str) -> dict[str, float]:
    """Each gate's interval width ÷ estimate in one run of `form` ("native" or "classic")."""
    folder.mkdir()
    spec = native.write_spec(folder, form, GATES, users=20, duration="30s", warmup="5s")
    service_options = {"factor": 1.1} if form == "native" else {"factor": 0.0, "classic": True}
    features = ("native-histograms",) if form == "native" else ()
    with native.NativeService(binary, **service_options) as service, ManagedPrometheus(
        [service.address], job="native", features=features
    ) as prometheus:
        prometheus.wait_for_scrape()
        env = {**os.environ, "ENDPOINT": service.url, "PROMETHEUS_URL": prometheus.url}
        subprocess.run([sys.executable, "-m", "validator.cli", "run", "--spec", str(spec),
                        "--reports-dir", str(folder / "reports")], env=env, capture_output=True, check=False)
    (run_dir,) = [p for p in (folder / "reports").iterdir() if p.is_dir()]
    verdict = json.loads((run_dir / "verdict.json").read_text())
    found = {}
    for gate in verdict["gates"]:
        measured = gate["measured"]
        if measured is not None:
            found[gate["name"]] = (measured["high"] - measured["low"]) / measured["estimate"]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="native and classic runs, interleaved")
    args = parser.parse_args()
    install()
    with tempfile.TemporaryDirectory(prefix="native-bench-") as directory:
        root = Path(directory)
        binary = native.build(root)
        runs: dict[str, list[dict[str, float]]] = {"native": [], "classic": []}
        for index in range(args.rounds):
            for form in runs:
                runs[form].append(widths(binary, root / f"{form}-{index}", form))
    print("| gate | native (factor 1.1) width ÷ estimate | classic (ratio 1.05) width ÷ estimate | native ÷ classic |")
    print("| --- | --- | --- | --- |")
    ratios = {}
    for gate in ("p50", "p95", "p99"):
        ours = median(run[gate] for run in runs["native"] if gate in run)
        theirs = median(run[gate] for run in runs["classic"] if gate in run)
        ratios[gate] = ours / theirs
        print(f"| {gate} | {ours * 100:.1f} % | {theirs * 100:.1f} % | {ratios[gate]:.2f} |")
    print(f"native_interval_width: {ratios['p99']:.2f}")


if __name__ == "__main__":
    main()
