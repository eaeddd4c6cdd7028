"""The one kind of error a user's input causes: one line naming the file, the key and what was expected."""

from pathlib import Path


class UsageError(ValueError):
    """Bad input from the user (spec, baseline, artifact, locustfile, option); the CLI exits with code 2."""


class InputFileError(UsageError):
    """A file that cannot be used, as `FILE: KEY: expected WHAT, got VALUE`."""

    def __init__(self, path: Path | str, key: str, expected: str, got: object = None) -> None:
        shown = "" if got is None else f", got {got!r}"
        super().__init__(f"{path}: {key}: expected {expected}{shown}")


class FieldError(ValueError):
    """A value inside an artifact that breaks one of its invariants (a negative count, more successes than
    requests): `key` is its path in the file, `expected` what it must be. Readers turn it into an InputFileError."""

    def __init__(self, key: str, expected: str) -> None:
        super().__init__(f"{key}: expected {expected}")
        self.key, self.expected = key, expected

    def under(self, prefix: str) -> "FieldError":
        """The same error with its key inside `prefix` (e.g. `measurements.latency_p99`)."""
        return FieldError(f"{prefix}.{self.key}", self.expected)


class NotRemeasured(Exception):
    """Prometheus could not be queried again for a run that already holds a measurement: the run folder is left
    as it was (the earlier measurement is never replaced by a could-not-evaluate record); the CLI exits with 4."""
