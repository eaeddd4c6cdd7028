"""What every chart shares: colours, resolution, the quantiles marked, and text made safe for matplotlib."""

import re

from matplotlib.axes import Axes

DPI = 100
CANDIDATE = "#1f5fbf"
BASELINE = "#e08a00"
CLIENT = "#5a5a5a"
LIMIT = "#c62828"
ERRORS = "#c62828"
WARMUP = "#d9d9d9"
QUANTILES = (0.5, 0.95, 0.99)
VERDICT_COLOURS = {"GO": "#2e7d32", "CAUTION": "#f9a825", "NO-GO": "#c62828"}

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def label_text(text: object, limit: int = 40) -> str:
    """Outside text (route names, categories, versions) as a plain one-line chart label: control characters as
    spaces, `$` escaped so matplotlib never reads it as mathtext, cut to `limit` characters."""
    plain = " ".join(_CONTROL.sub(" ", str(text)).split())
    if len(plain) > limit:
        plain = plain[: limit - 1] + "…"
    return plain.replace("\\", "\\\\").replace("$", r"\$")


def note(ax: Axes, text: str) -> None:
    """A grey sentence in the middle of an empty panel, saying what is missing."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.4", fontsize=9, wrap=True)
