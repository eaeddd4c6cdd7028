"""Loading the user's Locust scenario: its User classes, or one error line naming the file."""

from locust.util.load_locustfile import load_locustfile


class LocustfileError(ValueError):
    """The locustfile cannot be used (no User class, import error)."""


def user_classes_from(locustfile: str) -> list[type]:
    """The User classes a locustfile defines; raises LocustfileError naming the file when there are none."""
    try:
        classes, _shapes = load_locustfile(locustfile)
    except Exception as error:  # any import-time failure of user code
        raise LocustfileError(f"{locustfile}: cannot be imported: {error.__class__.__name__}: {error}") from None
    if not classes:
        raise LocustfileError(f"{locustfile}: defines no locust User class (e.g. a FastHttpUser subclass)")
    return list(classes.values())


def mean_wait_seconds(user_classes: list[type], draws: int = 2000) -> float | None:
    """The mean `wait_time` between tasks over the user classes (weighted), or None if it cannot be known.

    Sampled by calling each class's wait_time without a user, which works for Locust's `constant` and
    `between`; pacing wait times (`constant_pacing`, `constant_throughput`) depend on the user's own
    history, so the mean is unknown and Little's law is not checked.
    """
    total, weights = 0.0, 0
    for user_class in user_classes:
        weight = max(int(getattr(user_class, "weight", 1) or 1), 1)
        try:
            mean = sum(float(user_class.wait_time(None)) for _ in range(draws)) / draws
        except Exception:  # a wait_time that needs a live user: unknown
            return None
        total += weight * mean
        weights += weight
    return total / weights if weights else None
