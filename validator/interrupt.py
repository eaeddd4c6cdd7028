"""Stopping cleanly on Ctrl-C or SIGTERM: the first signal asks every stage to stop at its next check and keep what
it measured; a second one exits at once (every artifact is written atomically, so none is left half-written).

A signal handler only records the request: the load loops and the Prometheus wait poll `requested()`, so no
exception is thrown into Locust or gevent at an arbitrary point.
"""

import contextlib
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class StopRequest:
    """Which signal asked the run to stop, and when (epoch seconds)."""

    signal_name: str
    at: float


_received: list[StopRequest] = []


def requested() -> StopRequest | None:
    """The first stop request of this process, or None while the run may go on."""
    return _received[0] if _received else None


@contextlib.contextmanager
def stop_on_signals(exit_code: int) -> Iterator[None]:
    """Within the block, SIGINT/SIGTERM request a stop; a second one exits with `exit_code` at once."""

    def handle(number: int, _frame: object) -> None:
        _received.append(StopRequest(signal.Signals(number).name, time.time()))
        if len(_received) > 1:
            raise SystemExit(exit_code)

    previous = {number: signal.signal(number, handle) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
