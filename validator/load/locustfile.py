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
