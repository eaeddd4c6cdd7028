"""Is the server's window trustworthy? The scope facts (validator/prometheus/scope.py) judged into measurement
warnings (which keep the verdict from GO) and notes, each one line naming the series or targets concerned."""

from typing import Any

COVERAGE_SHARE = 0.75  # a series with fewer samples than this share of the expected scrapes had a gap ...
JITTER_SCRAPES = 2.0  # ... unless it missed at most this many (a short window's edges and timing jitter)


def scope_findings(scope: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(warnings, notes) from the scope facts of one measured window; ([], []) when none were recorded."""
    if not scope:
        return [], []
    warnings: list[str] = []
    notes: list[str] = []
    where = f"`{scope['counter']}{{{scope['selector']}}}`" if scope.get("selector") else f"`{scope['counter']}`"
    if scope.get("series") == 0:
        warnings.append(f"{where} matches no series in the window: no server figure is about this traffic")
    targets = scope.get("targets") or []
    if len(targets) > 1:
        notes.append(f"{where} matches {len(targets)} targets ({_targets(targets)}); every server figure sums them "
                     "— narrow the selector if the candidate is only one of them")
    for key, what in (("appeared", "appeared"), ("vanished", "vanished")):
        if scope.get(key):
            warnings.append(f"series of {where} {what} inside the window ({_targets(scope[key])}): a series born or "
                            "gone mid-window is under-counted by increase()")
    if scope.get("targets_down"):
        warnings.append(f"scrape gap: up was 0 inside the window for {_targets(scope['targets_down'])}")
    low, expected = scope.get("samples_min"), scope.get("samples_expected")
    if low is not None and expected and low < max(2.0, min(COVERAGE_SHARE * expected, expected - JITTER_SCRAPES)):
        warnings.append(f"scrape gap: a series of {where} has {low:.0f} samples in the window where about "
                        f"{expected:.0f} scrapes were expected (prometheus.scrape_interval); increase() needs 2")
    notes += [f"scope not fully checked: {error}" for error in scope.get("errors") or []]
    return warnings, notes


def _targets(targets: list[list[str]]) -> str:
    return ", ".join("/".join(part for part in target if part) or "(no job/instance)" for target in targets[:8]) + (
        f" and {len(targets) - 8} more" if len(targets) > 8 else ""
    )
