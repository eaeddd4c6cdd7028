"""Where a baseline came from, in a form that is the same on every machine and safe to commit.

Paths are relative to the repository (or the spec's folder outside a repository), URLs lose their
credentials and query, the locustfile is identified by its content hash, and the target's host is
classed (loopback, private, public) so a candidate can be told it ran somewhere else.
"""

import hashlib
import ipaddress
import os
import platform
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

PROFILE_KEYS = (
    "model", "users", "spawn_rate", "arrival_rate", "arrival", "ramp_s", "duration_s", "warmup_s", "workers",
    "mean_wait_s", "repeat",
)  # fmt: skip


def repo_root(start: Path) -> Path:
    """The enclosing git repository's root, or `start` itself outside a repository."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


def portable_path(path: str | Path | None, base: Path) -> str | None:
    """`path` relative to the repository holding `base`; only its name when it lies outside it."""
    if path is None:
        return None
    root = repo_root(base)
    absolute = (base / path).resolve()
    try:
        return absolute.relative_to(root).as_posix()
    except ValueError:
        return absolute.name


def portable_url(url: str | None) -> str | None:
    """`url` without user, password, query or fragment (tokens never reach a committed file)."""
    if not url:
        return url
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def host_class(url: str | None) -> str | None:
    """`loopback`, `private` (RFC 1918, link-local, single-label or .internal/.local/.lan names) or `public`."""
    if not url:
        return None
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    if host in ("localhost", "") or host.endswith(".localhost"):
        return "loopback"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        private_name = "." not in host or host.endswith((".internal", ".local", ".lan", ".cluster.local", ".svc"))
        return "private" if private_name else "public"
    if address.is_loopback:
        return "loopback"
    return "private" if address.is_private or address.is_link_local else "public"


def file_sha256(path: Path) -> str | None:
    """The SHA-256 of a file's content, or None when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def portable_profile(profile: dict[str, Any], base: Path, hash_file: bool = True) -> dict[str, Any]:
    """The load profile with its locustfile relative to the repository and identified by content hash (read now
    unless `hash_file` is False: a migrated file cannot know what its locustfile held when it was recorded)."""
    shown = {key: profile[key] for key in PROFILE_KEYS if profile.get(key) is not None}
    locustfile = profile.get("locustfile")
    shown["locustfile"] = portable_path(locustfile, base)
    shown["locustfile_sha256"] = profile.get("locustfile_sha256") or (
        file_sha256(base / locustfile) if locustfile and hash_file else None
    )
    return shown


def target_facts(url: str | None) -> dict[str, Any]:
    """The target as recorded: URL without credentials and its host class."""
    return {"url": portable_url(url), "host_class": host_class(url)}


def machine_facts() -> dict[str, Any]:
    """The machine the baseline was recorded on (the load ran there unless workers ran elsewhere)."""
    return {
        "cpus": os.cpu_count(),
        "system": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
        "python": platform.python_version(),
    }


def git_commit(base: Path) -> str | None:
    """The commit checked out in the repository holding `base`, or None."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False, cwd=repo_root(base)
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


def provenance(
    spec_path: Path, run_ids: list[str], prometheus_url: str, window: dict[str, float], target_url: str | None
) -> dict[str, Any]:
    """The provenance block of a baseline recorded with the spec at `spec_path` from the runs `run_ids`."""
    base = spec_path.parent
    return {
        "git_commit": git_commit(base),
        "spec_file": portable_path(spec_path.name, base),
        "run_ids": run_ids,
        "prometheus_url": portable_url(prometheus_url),
        "target": target_facts(target_url),
        "recorded_on": machine_facts(),
        "window": {key: round(value, 3) for key, value in window.items()},
    }
