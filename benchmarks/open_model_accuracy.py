"""open_model_accuracy: does the open model see a 200 ms stall that a raw measurement hides?

A local nginx answers a fixed 200; every few seconds this script freezes its worker (SIGSTOP) for
200 ms and thaws it (SIGCONT), like a GC pause. slagate sends a fixed 1000 requests/s from a small
pool of users (as wrk2 does with few connections). The p99 measured from each request's intended
send time (coordinated omission corrected) must show the stall; the p99 from the actual send hides
it, because the sends the stall delayed are measured only from when they finally left.

    .venv/bin/python benchmarks/open_model_accuracy.py [--rate 1000] [--duration 20] [--stall-every 3]
"""

import argparse
import signal
import tempfile
import threading
from pathlib import Path

from loadbench import Nginx, harness_load, nginx

from validator.load.histogram import Timeline

STALL_S = 0.2


def stall_periodically(target: Nginx, every: float, stop: threading.Event) -> int:
    """Freeze the nginx worker for STALL_S every `every` seconds until `stop`; returns how many stalls."""
    stalls = 0
    while not stop.wait(every - STALL_S):
        target.worker.send_signal(signal.SIGSTOP)
        stop.wait(STALL_S)
        target.worker.send_signal(signal.SIGCONT)
        stalls += 1
    return stalls


def main() -> None:
    """Run the stalled open-model load and print raw vs corrected quantiles and the late sends."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--stall-every", type=float, default=3.0)
    parser.add_argument("--users", type=int, default=10)
    args = parser.parse_args()
    lines = (
        f'arrival_rate = "{args.rate:g}/s"\narrival = "fixed"\nusers = {args.users}\n'
        f'duration = "{args.duration:g}s"\nwarmup = "2s"'
    )
    with nginx() as target, tempfile.TemporaryDirectory(prefix="slagate-bench-open-") as temporary:
        work = Path(temporary)
        stop = threading.Event()
        result: list[int] = []
        staller = threading.Thread(target=lambda: result.append(stall_periodically(target, args.stall_every, stop)))
        staller.start()
        try:
            load = harness_load(lines, target.url, work)
        finally:
            stop.set()
            staller.join()
            target.worker.send_signal(signal.SIGCONT)
    first = round(load["window"]["start"] - load["origin"])
    last = round(load["window"]["end"] - load["origin"])
    raw = Timeline.from_dict(load["timeline"]).select(first, last)
    corrected = Timeline.from_dict(load["corrected_timeline"]).select(first, last).combined()
    late = Timeline.from_dict(load["late_sends_timeline"]).select(first, last).combined()
    requests = raw.successes + raw.failures
    raw_all = raw.combined()
    print(f"stalls of {STALL_S * 1000:.0f} ms every {args.stall_every:g} s: {result[0] if result else 0}")
    seconds = load["window"]["seconds"]
    print(f"steady window {seconds:.0f} s: {requests} requests, {requests / seconds:.0f}/s")
    print(f"{'quantile':>8} {'raw (from actual send)':>24} {'corrected (from intended send)':>32}")
    for q in (0.5, 0.9, 0.99, 0.999):
        label = f"p{q * 100:g}"
        print(f"{label:>8} {raw_all.quantile(q) / 1000:>21.2f} ms {corrected.quantile(q) / 1000:>29.2f} ms")
    late_max = late.max / 1000 if late.total else 0.0
    share = late.total / requests * 100
    print(f"late sends (> 5 ms behind their slot): {late.total} ({share:.1f} %), max {late_max:.0f} ms")
    print(
        f"open_model_accuracy: {corrected.quantile(0.99) / 1000:.1f} ms corrected p99 "
        f"(raw p99 {raw_all.quantile(0.99) / 1000:.1f} ms, {late.total} late sends)"
    )


if __name__ == "__main__":
    main()
