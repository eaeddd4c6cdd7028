"""`[baseline]`: which baseline the gates compare with, where versions live, and what a load mismatch does."""

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from validator.spec.reader import Reader, boolean, choice, positive
from validator.spec.units import parse_fraction

Mismatch = Literal["warn", "refuse"]
MISMATCH: tuple[Mismatch, ...] = get_args(Mismatch)
SELECTOR_HELP = "a path, SERVICE@VERSION or 'latest'"


@dataclass(frozen=True)
class BaselineSpec:
    """`file` as written (a path, SERVICE@VERSION or `latest`), the folder of versions, the mismatch policy, the
    relative tolerance on users, arrival rate and duration beyond which the load profiles differ, whether a
    baseline recorded for another service may be used, and the pinned reference baseline of `max_drift`."""

    file: str | None = None
    directory: Path = Path("baselines")
    mismatch: Mismatch = "warn"
    tolerance: float = 0.10
    base_dir: Path = Path(".")
    allow_foreign: bool = False  # allow_foreign_baseline: a baseline of another service, judged as a mismatch
    reference: str | None = None  # a pinned baseline (file or version) that max_drift compares every release with

    @property
    def path(self) -> Path | None:
        """The file, when `file` names one (None for `latest` and SERVICE@VERSION)."""
        if self.file is None or is_reference(self.file):
            return None
        return self.base_dir / self.file


def is_reference(selector: str) -> bool:
    """Whether a selector names a version (`latest`, SERVICE@VERSION) rather than a file."""
    return selector == "latest" or ("@" in selector and "/" not in selector and not selector.endswith(".json"))


def baseline_section(table: Reader, base_dir: Path) -> BaselineSpec:
    """Read `[baseline]`; relative paths are relative to the spec's folder."""
    return BaselineSpec(
        file=table.text("file", None),
        directory=base_dir / table.text("dir", "baselines"),
        mismatch=table.get("mismatch", choice(MISMATCH), "'warn' or 'refuse'", "warn"),
        tolerance=table.get("tolerance", positive(parse_fraction, "a share such as 10%"), "a share such as 10%", 0.10),
        base_dir=base_dir,
        allow_foreign=table.get("allow_foreign_baseline", boolean, "true or false", False),
        reference=table.text("reference", None),
    )
