"""The run's files as contracts: every write atomic, every JSON artifact versioned and validated on read.

A write goes to a temporary file in the same folder and is `os.replace`d into place, so a crash or a
full disk never leaves a truncated artifact that looks complete. Each JSON artifact carries a
`schema_version`; a reader accepts only the versions it knows and checks the document against the
JSON Schema shipped in `validator/schemas/`, so a bad file is one line naming the file and the key.
"""

import functools
import json
import os
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import jsonschema

from validator.errors import ArtifactError, FieldError, WriteFailed
from validator.redact import redact

T = TypeVar("T")

UMASK = os.umask(0o022)  # the process's umask, read once (reading it means setting it) and put back
os.umask(UMASK)

VERDICT_FILE = "verdict.json"  # the judged run's decision, read back by `baseline promote` and `rules --run`
SCHEMA_VERSIONS = {"load": 3, "metrics": 1, "verdict": 1, "baseline": 3}  # the version each artifact is written at


MIGRATIONS: dict[str, Callable[[dict[str, Any], Path], dict[str, Any]]] = {}  # kind → upgrade of older versions


def write_text(path: Path, text: str) -> Path:
    """Write `text`, with every known secret masked, to `path` atomically (temp file in the same folder, fsync,
    rename); WriteFailed names the path.

    The file gets the permissions a plain write would give it (the file's own when it exists, else 0o666 less
    the umask), not the temporary's owner-only 0o600: reports and baselines are read by CI, reviewers and others.
    """
    text = redact(text)
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise WriteFailed(path, error) from None
    try:
        os.fchmod(handle, _mode_for(path))
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise WriteFailed(path, error) from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _mode_for(path: Path) -> int:
    """The permissions `open(path, "w")` would leave: the existing file's, or 0o666 less the umask."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        return 0o666 & ~UMASK


def write_json(path: Path, document: dict[str, Any], indent: int | None = None) -> Path:
    """Write a JSON artifact atomically."""
    return write_text(path, json.dumps(document, indent=indent, ensure_ascii=False) + "\n")


def read_json(path: Path, kind: str) -> dict[str, Any]:
    """Read the artifact `kind` ("load", "metrics", "verdict", "baseline"), check its schema version, validate it."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactError(path, "(file)", f"the {kind} artifact of an earlier stage; it does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ArtifactError(path, "(syntax)", f"valid JSON ({error})") from None
    migrate = MIGRATIONS.get(kind)
    if migrate is not None and isinstance(document, dict) and document.get("schema_version") != SCHEMA_VERSIONS[kind]:
        try:
            document = migrate(document, path)
        except (LookupError, TypeError, ValueError, ArithmeticError, AttributeError) as error:
            detail = " ".join(f"{error.__class__.__name__}: {error}".split())[:200]
            expected = f"an older {kind} artifact that can be migrated ({detail})"
            raise ArtifactError(path, "(content)", expected) from None
    validate(document, kind, path)
    return document


def read_as(path: Path, kind: str, build: Callable[[dict[str, Any]], T]) -> T:
    """Read and validate artifact `kind`, then build its object; a document the schema lets through but the object
    cannot be built from (inconsistent counts, a wrong nested type) is an ArtifactError too, never a crash."""
    document = read_json(path, kind)
    try:
        return build(document)
    except FieldError as error:
        raise ArtifactError(path, error.key, error.expected) from None
    except (LookupError, TypeError, ValueError, ArithmeticError, AttributeError, RecursionError) as error:
        detail = " ".join(f"{error.__class__.__name__}: {error}".split())[:200]
        raise ArtifactError(path, "(content)", f"a consistent {kind} artifact ({detail})") from None


def validate(document: Any, kind: str, path: Path | str = "(document)") -> None:
    """Raise ArtifactError unless `document` is a valid `kind` artifact at the version this slagate writes."""
    if not isinstance(document, dict):
        raise ArtifactError(path, "(root)", "a JSON object")
    version, known = document.get("schema_version"), SCHEMA_VERSIONS[kind]
    if version != known:
        newer = isinstance(version, int) and version > known
        hint = " (written by a newer slagate: upgrade slagate)" if newer else ""
        raise ArtifactError(path, "schema_version", f"{known}, got {version!r}{hint}")
    error = jsonschema.exceptions.best_match(_validator(kind).iter_errors(document))
    if error is not None:
        key = ".".join(str(part) for part in error.absolute_path) or "(root)"
        raise ArtifactError(path, key, f"a value matching the {kind} schema ({error.message})")


@functools.cache
def schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of artifact `kind`, as shipped in the package."""
    return json.loads(resources.files("validator.schemas").joinpath(f"{kind}.schema.json").read_text())


@functools.cache
def _validator(kind: str) -> jsonschema.protocols.Validator:
    document = schema(kind)
    validator_class = jsonschema.validators.validator_for(document)
    return validator_class(document)
