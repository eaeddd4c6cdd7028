"""Open-model load: requests leave on a timetable (fixed or Poisson, optionally ramped), not when a user is free.

As in wrk2, a pool of Locust users takes slots from one shared timetable per process: a user sleeps
until the next free slot, runs one task, and takes the next slot. When the service stalls, every user
is busy, slots pass unserved and the next sends leave late; each request carries its intended send
time in its request context, so its latency is measured from that slot (coordinated omission
corrected) as well as from the actual send (the raw service latency).
"""

import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gevent
from locust import User

from validator.load.recorder import INTENDED_KEY


@dataclass(frozen=True)
class ArrivalPlan:
    """This process's share of the timetable: `rate` of the whole run split over `count` processes."""

    rate: float  # requests per second, the whole run's
    arrival: str  # "poisson" or "fixed"
    ramp: float  # seconds of linear ramp from 0 to `rate`
    start: float  # epoch seconds of the first slot (rate 0 if ramped)
    index: int = 0  # this process among `count`
    count: int = 1

    def to_dict(self) -> dict[str, Any]:
        """The plan as a message payload (master → worker)."""
        return dict(vars(self))


def slot_offsets(plan: ArrivalPlan, seed: int | None = None) -> Iterator[float]:
    """Seconds after `plan.start` of this process's slots, forever, ascending.

    Slots are generated in "expected arrivals" space (unit rate) and mapped through the inverse of
    the cumulative rate Λ(t) = rate·t²/(2·ramp) during the ramp and linear after it, so a ramp
    changes when slots fall, not how they are spaced in expectation. Fixed: process k of n takes
    arrivals k, k+n, k+2n, … of one evenly spaced run. Poisson: each process draws its own stream of
    rate/n, and independent Poisson streams add up to one of the full rate.
    """
    rng = random.Random(seed)
    expected = 0.0
    step = 0
    while True:
        if plan.arrival == "fixed":
            expected = plan.index + step * plan.count + 0.5
            step += 1
        else:
            expected += rng.expovariate(1.0) * plan.count
        yield _inverse_cumulative(expected, plan.rate, plan.ramp)


def _inverse_cumulative(arrivals: float, rate: float, ramp: float) -> float:
    during_ramp = rate * ramp / 2.0  # Λ(ramp)
    if ramp > 0 and arrivals < during_ramp:
        return math.sqrt(2.0 * ramp * arrivals / rate)
    return ramp + (arrivals - during_ramp) / rate


class Timetable:
    """The shared slots of one process: `take()` hands each slot to exactly one user."""

    def __init__(self, plan: ArrivalPlan, seed: int | None = None) -> None:
        self.plan = plan
        self._offsets = slot_offsets(plan, seed)

    def take(self) -> float:
        """The next unserved slot (epoch seconds); it may already be in the past (a late send)."""
        return self.plan.start + next(self._offsets)


def paced(user_class: type[User], timetable: Timetable) -> type[User]:
    """A subclass of `user_class` (same name, so master and workers agree) that runs one task per slot."""

    def on_start(self: Any) -> None:
        user_class.on_start(self)
        self._slagate_sleep_until_slot()

    def wait_time(self: Any) -> float:
        slot = timetable.take()
        self._slagate_intended = slot
        return max(0.0, slot - time.time())

    def sleep_until_slot(self: Any) -> None:
        gevent.sleep(wait_time(self))

    def context(self: Any) -> dict[str, Any]:
        # Only the first request of a task was scheduled; later ones in the same task are not corrected.
        intended, self._slagate_intended = getattr(self, "_slagate_intended", None), None
        base = user_class.context(self)
        return base if intended is None else {**base, INTENDED_KEY: intended}

    return type(
        user_class.__name__,
        (user_class,),
        {
            "__module__": user_class.__module__,
            "__doc__": user_class.__doc__,
            "on_start": on_start,
            "wait_time": wait_time,
            "context": context,
            "_slagate_sleep_until_slot": sleep_until_slot,
        },
    )
