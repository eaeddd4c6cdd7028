"""Unit parsing: the forms a spec may use, and the rejection of everything else."""

import pytest

from validator.spec.units import format_value, parse_duration, parse_fraction, parse_number, parse_rate


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("250ms", 0.25), ("1.5s", 1.5), ("2m", 120.0), ("90us", 90e-6), (3, 3.0), ("0.5", 0.5), ("1h", 3600.0)],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["fast", "10 parsecs", True, None, "ms", [1]])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


def test_fractions_and_rates() -> None:
    assert parse_fraction("99.5%") == pytest.approx(0.995)
    assert parse_fraction(0.99) == pytest.approx(0.99)
    assert parse_rate("500/s") == 500.0 and parse_rate("20 rps") == 20.0
    assert parse_number("10%") == pytest.approx(0.1) and parse_number(7) == 7.0
    with pytest.raises(ValueError):
        parse_fraction("ninety")


def test_formatting_names_the_unit() -> None:
    assert format_value(0.0421, "s") == "42.1 ms"
    assert format_value(0.995, "ratio") == "99.500 %"
    assert format_value(812.34, "req/s") == "812.3 req/s"
    assert format_value(float("nan"), "s") == "NaN"
