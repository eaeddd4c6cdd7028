"""Loading the user's Locust scenario: its User classes, or one error line naming the file.

A LoadTestShape is refused rather than ignored: slagate's steady window and the open-model timetable come from
the spec's [load] keys, so a shape driving the users would make the measured window mean something else.
"""

from collections.abc import Callable
from typing import cast

from locust import User
from locust.util.load_locustfile import load_locustfile

from validator.errors import LocustfileError


def user_classes_from(locustfile: str) -> list[type]:
    """The User classes a locustfile defines; raises LocustfileError naming the file when there are none
    or when it defines a LoadTestShape (the load profile is the spec's [load], never a shape)."""
    try:
        classes, shapes = load_locustfile(locustfile)
    except Exception as error:  # any import-time failure of user code
        raise LocustfileError(f"{locustfile}: cannot be imported: {error.__class__.__name__}: {error}") from None
    if shapes:
        names = ", ".join(sorted(type(shape).__name__ for shape in shapes))
        raise LocustfileError(
            f"{locustfile}: defines LoadTestShape {names}: slagate does not run shapes; remove it and set "
            "the profile in the spec's [load] (users, spawn_rate, arrival_rate, ramp, duration)"
        )
    if not classes:
        raise LocustfileError(f"{locustfile}: defines no locust User class (e.g. a FastHttpUser subclass)")
    return list(classes.values())


def mean_wait_seconds(user_classes: list[type[User]], draws: int = 2000) -> float | None:
    """The mean `wait_time` between tasks over the user classes (weighted), or None if it cannot be known.

    Sampled by calling each class's wait_time without a user, which works for Locust's `constant` and
    `between`; pacing wait times (`constant_pacing`, `constant_throughput`) depend on the user's own
    history, so the mean is unknown and Little's law is not checked.
    """
    total, weights = 0.0, 0
    for user_class in user_classes:
        weight = max(int(getattr(user_class, "weight", 1) or 1), 1)
        try:
            wait_time = cast(Callable[[None], float], user_class.wait_time)  # sampled without a user (see above)
            mean = sum(float(wait_time(None)) for _ in range(draws)) / draws
        except Exception:  # a wait_time that needs a live user: unknown
            return None
        total += weight * mean
        weights += weight
    return total / weights if weights else None
