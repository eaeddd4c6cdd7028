"""The live progress line during the load: elapsed/total, current requests/s, errors, p99 of the last window.

On a terminal the line is rewritten in place every second; otherwise (CI logs) one plain line is
written every few seconds, so logs stay short.
"""

import math
import sys
from typing import TextIO

from validator.load.histogram import Timeline
from validator.spec.units import format_seconds

PLAIN_EVERY_SECONDS = 5.0


class Progress:
    """Writes progress lines about a load of `total` seconds to `stream` (stderr by default)."""

    def __init__(self, total: float, stream: TextIO | None = None, interactive: bool | None = None) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self._last_plain = -math.inf
        self._drawn = False

    def update(self, elapsed: float, timeline: Timeline, settle: float = 0.0) -> None:
        """Show the state `elapsed` seconds into the load, from the requests captured so far.

        `settle`: how long captured data takes to arrive (workers report once a second), so the
        "last window" shown is one that is complete.
        """
        if not self.interactive and elapsed - self._last_plain < PLAIN_EVERY_SECONDS:
            return
        line = describe(elapsed, self.total, timeline, settle)
        if self.interactive:
            self.stream.write(f"\r\x1b[2K{line}")
            self._drawn = True
        else:
            self.stream.write(line + "\n")
            self._last_plain = elapsed
        self.stream.flush()

    def finish(self) -> None:
        """End the live line (a newline on a terminal; nothing otherwise)."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()


def describe(elapsed: float, total: float, timeline: Timeline, settle: float = 0.0) -> str:
    """One progress line, e.g. 'slagate: load 12/30 s · 812 req/s · 3 errors · p99 41.2ms (last 1 s)'."""
    last_complete = math.floor((elapsed - settle) / timeline.window_seconds) - 1
    window = next((w for w in timeline.windows() if w.index == last_complete), None)
    rate, p99 = "0 req/s", "p99 —"
    if window is not None and window.histogram.total:
        rate = f"{window.histogram.total / timeline.window_seconds:.0f} req/s"
        p99 = f"p99 {format_seconds(window.histogram.quantile(0.99) / 1e6)}"
    return (
        f"slagate: load {min(elapsed, total):.0f}/{total:.0f} s · {rate} · {timeline.failures} errors · "
        f"{p99} (last {timeline.window_seconds:g} s)"
    )
