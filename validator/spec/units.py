"""Parsing of the human units a spec is written in: durations, latencies, percentages, rates.

Every parser returns a plain float in base units (seconds, fractions, per-second) and raises
ValueError with the expected form, which spec.py turns into a file/key error.
"""

import math
import re
from collections.abc import Callable

_DURATION_UNITS = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_DURATION_RE = re.compile(rf"^\s*({_NUMBER})\s*(us|µs|ms|s|m|h)\s*$")
_PERCENT_RE = re.compile(rf"^\s*({_NUMBER})\s*%\s*$")
_RATE_RE = re.compile(rf"^\s*({_NUMBER})\s*(?:/s|rps|req/s)\s*$")
_PLAIN_RE = re.compile(rf"^\s*({_NUMBER})\s*$")


_DURATION_FORM = "a duration such as '250ms', '30s' or '2m'"
_FRACTION_FORM = "a percentage such as '99.5%' or a fraction such as 0.995"
_RATE_FORM = "a rate such as '500/s' or a number of requests per second"


def _parse(
    value: object, forms: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], float]], ...], form: str
) -> float:
    """A finite float from a bare number or the first matching text form (scaled to base units); else ValueError."""
    number = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        match = next((m for pattern, _ in forms if (m := pattern.match(value))), None)
        if match is not None:
            scale = next(scale for pattern, scale in forms if pattern is match.re)
            number = float(match.group(1)) * scale(match)
    if number is None or not math.isfinite(number):
        raise ValueError(form)
    return number


def parse_duration(value: object) -> float:
    """Seconds from '250ms', '1.5s', '2m', '90us' or a bare number of seconds."""
    forms = ((_DURATION_RE, lambda m: _DURATION_UNITS[m.group(2)]), (_PLAIN_RE, lambda m: 1.0))
    return _parse(value, forms, _DURATION_FORM)


def parse_fraction(value: object) -> float:
    """A fraction from '99.5%' or a bare number already between 0 and 1."""
    return _parse(value, ((_PERCENT_RE, lambda m: 0.01), (_PLAIN_RE, lambda m: 1.0)), _FRACTION_FORM)


def parse_rate(value: object) -> float:
    """Requests per second from '500/s', '500 rps' or a bare number."""
    return _parse(value, ((_RATE_RE, lambda m: 1.0), (_PLAIN_RE, lambda m: 1.0)), _RATE_FORM)


def parse_number(value: object) -> float:
    """A bare number, or any of the unit forms above (for custom PromQL bounds)."""
    for parser in (parse_duration, parse_fraction, parse_rate):
        try:
            return parser(value)
        except ValueError:
            continue
    raise ValueError("a number, optionally with a unit such as '250ms', '99%' or '500/s'")


def format_seconds(seconds: float) -> str:
    """A latency for humans: µs, ms or s with three significant digits."""
    if seconds != seconds:
        return "NaN"
    magnitude = abs(seconds)
    if magnitude >= 1.0:
        return f"{seconds:.3g} s"
    if magnitude >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def format_value(value: float, unit: str) -> str:
    """A figure in its unit for the report: latencies in ms/s, ratios in %, rates in req/s."""
    if value != value:
        return "NaN"
    if unit == "s":
        return format_seconds(value)
    if unit == "ratio":
        return f"{value * 100:.3f} %"
    if unit == "req/s":
        return f"{value:.1f} req/s"
    return f"{value:.4g}"
