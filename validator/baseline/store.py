"""The folder of baselines, `<dir>/<service>/<version>.json`: versions in semantic-version order, and selection.

A selector is a path to a file, `SERVICE@VERSION`, `SERVICE@latest` or `latest` (the spec's service).
`latest` is the highest release (2.10.0 over 2.9.0), and a pre-release only when there is no release
(2.9.0 over 2.10.0-rc1); in a listing a pre-release sorts just before its release.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from validator.errors import InputFileError
from validator.spec.baseline import BaselineSpec, is_reference
from validator.spec.reader import PATH_NAME, PATH_NAME_EXPECTED

_SEMVER = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")

VersionKey = tuple[int, tuple[int, ...], int, tuple[tuple[int, int, str], ...], str]


def version_key(version: str) -> VersionKey:
    """Semantic-version precedence (a pre-release before its release; numeric identifiers numerically);
    a version that is not semantic sorts before every semantic one, by name."""
    match = _SEMVER.match(version)
    if match is None:
        return (0, (), 0, (), version)
    numbers = tuple(int(part or 0) for part in match.group(1, 2, 3))
    pre = match.group(4)
    if pre is None:
        return (1, numbers, 1, (), version)
    identifiers = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (1, numbers, 0, identifiers, version)


def is_release(version: str) -> bool:
    """A semantic version without a pre-release part."""
    match = _SEMVER.match(version)
    return match is not None and match.group(4) is None


@dataclass(frozen=True)
class Stored:
    """One baseline file in the folder: its service, version and path."""

    service: str
    version: str
    path: Path


def versions(directory: Path, service: str) -> list[Stored]:
    """Every baseline of `service` in `directory`, in semantic-version order."""
    folder = directory / service
    found = [Stored(service, path.stem, path) for path in folder.glob("*.json")] if folder.is_dir() else []
    return sorted(found, key=lambda stored: version_key(stored.version))


def services(directory: Path) -> list[str]:
    """The services with at least one baseline in `directory`, by name."""
    if not directory.is_dir():
        return []
    return sorted(p.name for p in directory.iterdir() if p.is_dir() and any(p.glob("*.json")))


def latest(directory: Path, service: str) -> Stored:
    """The highest release of `service`, or its highest pre-release when it has no release."""
    stored = versions(directory, service)
    releases = [s for s in stored if is_release(s.version)]
    chosen = releases or stored
    if not chosen:
        raise InputFileError(directory / service, "(folder)", f"at least one baseline of {service} (none found)")
    return chosen[-1]


def resolve(selector: str, settings: BaselineSpec, service: str) -> Path:
    """The file a selector names: `latest`, SERVICE@VERSION, SERVICE@latest, or a path (relative to the spec's
    folder when it comes from the spec, to the working directory from the command line)."""
    if not is_reference(selector):
        return Path(selector)
    name, _, version = selector.rpartition("@") if "@" in selector else (service, "", selector)
    for part in (name, version):
        if not PATH_NAME.match(part):
            raise InputFileError(selector, "(baseline)", "SERVICE@VERSION, each " + PATH_NAME_EXPECTED)
    if version == "latest":
        return latest(settings.directory, name).path
    path = settings.directory / name / f"{version}.json"
    if not path.is_file():
        known = ", ".join(s.version for s in versions(settings.directory, name)) or "none"
        raise InputFileError(path, "(file)", f"a recorded version of {name} (recorded: {known})")
    return path
