"""Every error slagate raises, in one tree; `cli/common.py` turns each family into one line and an exit code.

    SlagateError
    ├── UsageError (ValueError) ............ exit 2: the user's input cannot be used
    │   ├── InputFileError ................. `FILE: KEY: expected WHAT, got VALUE`
    │   │   ├── SpecError .................. sla.toml
    │   │   ├── ArtifactError .............. a run's JSON artifact
    │   │   └── BaselineError .............. a baseline file
    │   ├── LocustfileError ................ the locustfile does not import or defines no user
    │   └── NothingFound ................... `slagate init`: no latency histogram under the selector
    ├── CouldNotEvaluate ................... exit 4: nothing can be judged (the verdict is NO-GO)
    │   ├── PrometheusUnavailable .......... unreachable, refused, TLS, retries exhausted
    │   ├── NotRemeasured .................. `validate` could not query again; the earlier measurement stands
    │   ├── LoadError ...................... the distributed load could not run
    │   ├── WriteFailed (OSError) .......... a file could not be written; nothing half-written is left
    │   └── DemoUnavailable ................ the demo cannot start
    │       ├── PrometheusNotFound
    │       ├── PrometheusFailed
    │       └── NativeServiceUnavailable
    ├── QueryFailed ........................ one query refused: that figure is missing (or exit 2 before a load)
    ├── FieldError (ValueError) ............ an artifact invariant, raised as the file's InputFileError by readers
    ├── IncomparableEvidence (ValueError) .. the baseline holds another kind of evidence: NO_DATA
    └── Untestable (ValueError) ............ `rules --tests`: no synthetic series for this alert: a skipped test

Stopped runs (exit 5) are not errors: a signal records a stop request (`interrupt.py`). Anything else that
escapes is a defect: one line and exit 4 (`cli/common.py`, `Slagate.main`).
"""

from pathlib import Path


class SlagateError(Exception):
    """The root of every error slagate raises itself."""


class UsageError(SlagateError, ValueError):
    """Bad input from the user (spec, baseline, artifact, locustfile, option); the CLI exits with code 2."""


class InputFileError(UsageError):
    """A file that cannot be used, as `FILE: KEY: expected WHAT, got VALUE`."""

    def __init__(self, path: Path | str, key: str, expected: str, got: object = None) -> None:
        shown = "" if got is None else f", got {got!r}"
        super().__init__(f"{path}: {key}: expected {expected}{shown}")


class SpecError(InputFileError):
    """A spec that cannot be used; the message is one line: file, key path, expectation, value."""


class ArtifactError(InputFileError):
    """An artifact that cannot be used: one line naming the file, the key and what was expected."""


class BaselineError(InputFileError):
    """A baseline file that cannot be used; one line naming the file, key and expectation."""


class LocustfileError(UsageError):
    """The locustfile cannot be used (import error, no User class, a LoadTestShape)."""


class NothingFound(UsageError):
    """Prometheus has no HTTP server latency histogram under the selector; the message says what it has."""


class CouldNotEvaluate(SlagateError):
    """Nothing can be judged: the CLI says `could not evaluate` and exits with 4 (the verdict is NO-GO)."""


class PrometheusUnavailable(CouldNotEvaluate):
    """Prometheus could not be used at all (unreachable, refused, TLS, retries exhausted)."""


class NotRemeasured(CouldNotEvaluate):
    """Prometheus could not be queried again for a run that already holds a measurement: the run folder is left
    as it was (the earlier measurement is never replaced by a could-not-evaluate record)."""


class LoadError(CouldNotEvaluate):
    """The distributed load could not run (e.g. workers did not connect); the message says why."""


class WriteFailed(CouldNotEvaluate, OSError):
    """A file could not be written (read-only folder, full disk, file-size limit); nothing half-written is left."""

    def __init__(self, path: Path, error: OSError) -> None:
        super().__init__(error.errno, f"cannot write {path}: {error.strerror or error}")


class DemoUnavailable(CouldNotEvaluate):
    """The built-in demo cannot start."""


class PrometheusNotFound(DemoUnavailable):
    """No Prometheus binary: neither given, nor in $PROMETHEUS_BIN, nor on PATH."""


class PrometheusFailed(DemoUnavailable):
    """Prometheus exited or did not become ready (or did not scrape) in time; the message ends with its log."""


class NativeServiceUnavailable(DemoUnavailable):
    """Go or client_golang is not installed, or the build failed."""


class QueryFailed(SlagateError):
    """Prometheus answered one query with an error (e.g. a PromQL parse error); the message quotes it."""

    def __init__(self, message: str, status: int, error_type: str, prometheus_error: str) -> None:
        super().__init__(message)
        self.status, self.error_type, self.prometheus_error = status, error_type, prometheus_error


class FieldError(SlagateError, ValueError):
    """A value inside an artifact that breaks one of its invariants (a negative count, more successes than
    requests): `key` is its path in the file, `expected` what it must be. Readers turn it into an InputFileError."""

    def __init__(self, key: str, expected: str) -> None:
        super().__init__(f"{key}: expected {expected}")
        self.key, self.expected = key, expected

    def under(self, prefix: str) -> "FieldError":
        """The same error with its key inside `prefix` (e.g. `measurements.latency_p99`)."""
        return FieldError(f"{prefix}.{self.key}", self.expected)


class IncomparableEvidence(SlagateError, ValueError):
    """The baseline holds a different kind of evidence for this metric than the candidate."""


class Untestable(SlagateError, ValueError):
    """The spec's series cannot be fed synthetic data (e.g. a regex selector with no literal match)."""
