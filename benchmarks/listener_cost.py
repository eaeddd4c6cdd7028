"""listener_cost: the CPU one request costs in the request event's listeners, slagate's against Locust's own.

Every Locust request fires `environment.events.request`; a Locust runner listens with its `RequestStats`
(rounded response times per endpoint and in total), a slagate load process with its `RequestRecorder` instead
(µs histograms per 1-s window and per endpoint, and the count of every event). This fires the real event
`--requests` times with varied response times in a real Locust environment (no network) for each set of
listeners, in rounds that alternate, and prints µs a request (median over rounds); the last line is both costs.
Beside a request's whole cost to a worker (about 100 µs against a local nginx, see load_scaling) the difference
is what slagate saves or spends a request.

    .venv/bin/python benchmarks/listener_cost.py [--requests 200000] [--rounds 5]
"""

import argparse
import statistics
import time
from collections.abc import Callable

from locust import HttpUser
from locust.env import Environment

from validator.load.agent import LoadAgent


def locust_only() -> Environment:
    """A local runner's environment as Locust leaves it: its RequestStats listener on the request event."""
    environment = Environment(user_classes=[HttpUser])
    environment.create_local_runner()
    return environment


def slagate() -> Environment:
    """The same environment as a slagate load process runs it: the agent attached and capturing."""
    environment = locust_only()
    LoadAgent(environment).configure(time.time(), None)
    return environment


def no_listener() -> Environment:
    """The event with no listener at all: what firing it costs by itself."""
    environment = locust_only()
    environment.events.request._handlers.clear()
    return environment


def microseconds_a_request(make: Callable[[], Environment], requests: int) -> float:
    """Fire `requests` request events as a FastHttpUser does (same keywords) and return µs per event."""
    fire = make().events.request.fire
    start = time.perf_counter()
    for i in range(requests):
        fire(request_type="GET", name="/api/items", response_time=1.5 + (i % 997) * 0.37, response_length=512,
             exception=None, context={}, response=None, url="http://127.0.0.1/api/items", start_time=0.0)
    return (time.perf_counter() - start) / requests * 1e6


def main() -> None:
    """Alternate the three set-ups over the rounds and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    setups = {"Locust's RequestStats": locust_only, "slagate's RequestRecorder": slagate, "no listener": no_listener}
    times: dict[str, list[float]] = {name: [] for name in setups}
    for _ in range(args.rounds):
        for name, make in setups.items():
            times[name].append(microseconds_a_request(make, args.requests))
    print(f"{'listeners on the request event':<32} {'µs a request (median)':>22} {'min':>6} {'max':>6}")
    medians = {}
    for name, values in times.items():
        medians[name] = statistics.median(values)
        print(f"{name:<32} {medians[name]:>22.2f} {min(values):>6.2f} {max(values):>6.2f}")
    bare = medians["no listener"]
    ours, theirs = medians["slagate's RequestRecorder"] - bare, medians["Locust's RequestStats"] - bare
    print(f"listener_cost: slagate {ours:.2f} µs, Locust {theirs:.2f} µs a request "
          f"(firing the event {bare:.2f} µs more)")


if __name__ == "__main__":
    main()
