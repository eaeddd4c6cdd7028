"""The one kind of error a user's input causes: one line naming the file, the key and what was expected."""

from pathlib import Path


class UsageError(ValueError):
    """Bad input from the user (spec, baseline, artifact, locustfile, option); the CLI exits with code 2."""


class InputFileError(UsageError):
    """A file that cannot be used, as `FILE: KEY: expected WHAT, got VALUE`."""

    def __init__(self, path: Path | str, key: str, expected: str, got: object = None) -> None:
        shown = "" if got is None else f", got {got!r}"
        super().__init__(f"{path}: {key}: expected {expected}{shown}")


class NotRemeasured(Exception):
    """Prometheus could not be queried again for a run that already holds a measurement: the run folder is left
    as it was (the earlier measurement is never replaced by a could-not-evaluate record); the CLI exits with 4."""
