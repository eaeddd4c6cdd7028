"""Typed access to the spec's TOML tables: every error names the file and the key path, every unknown key is
refused with the nearest known one, and the small parsers the sections share."""

import difflib
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from validator.errors import SpecError
from validator.spec.units import parse_duration, parse_fraction


class Reader:
    """One TOML table read with its full key path; it remembers which keys were read, so the rest are unknown."""

    def __init__(self, path: Path, table: Mapping[str, Any], prefix: str) -> None:
        self.path, self.table, self.prefix = path, table, prefix
        self._read: set[str] = set()
        self._children: list[Reader] = []
        self._tables: dict[str, Reader] = {}

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def fail(self, name: str, expected: str, got: object = None) -> SpecError:
        return SpecError(self.path, self.key(name), expected, got)

    def get(self, name: str, parse: Callable[[object], Any], expected: str, default: Any = ...) -> Any:
        self._read.add(name)
        if name not in self.table:
            if default is ...:
                raise self.fail(name, f"{expected} (the key is missing)")
            return default
        value = self.table[name]
        try:
            return parse(value)
        except (TypeError, ValueError) as error:
            raise self.fail(name, str(error) or expected, value) from None

    def text(self, name: str, default: Any = ...) -> str:
        return self.get(name, nonempty_string, "a non-empty string", default)

    def sub(self, name: str, required: bool = True) -> "Reader":
        """The table `name` inside this one (an empty one when optional and absent); the same reader each time."""
        self._read.add(name)
        if name in self._tables:
            return self._tables[name]
        value = self.table.get(name)
        if value is None and not required:
            value = {}
        if not isinstance(value, Mapping):
            raise self.fail(name, f"a table [{self.key(name)}]", value)
        self._tables[name] = self.child(value, self.key(name))
        return self._tables[name]

    def child(self, table: Mapping[str, Any], prefix: str) -> "Reader":
        """A reader for a nested table (e.g. one `[[gates]]` entry) whose unknown keys are checked with ours."""
        reader = Reader(self.path, table, prefix)
        self._children.append(reader)
        return reader

    def refuse_unknown(self) -> None:
        """SpecError on the first key no section read, naming the nearest known key when there is one."""
        for name in self.table:
            if name not in self._read:
                close = difflib.get_close_matches(str(name), sorted(self._read), n=1)
                known = f"did you mean '{close[0]}'?" if close else "known keys: " + ", ".join(sorted(self._read))
                raise self.fail(str(name), f"a known key of [{self.prefix or 'the spec'}] ({known})")
        for child in self._children:
            child.refuse_unknown()


def nonempty_string(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a non-empty string")
    return value


def positive(parse: Callable[[object], float], what: str) -> Callable[[object], float]:
    """`parse`, then refuse zero, negatives and NaN."""

    def parse_positive(value: object) -> float:
        number = parse(value)
        if not number > 0 or number == float("inf"):
            raise ValueError(f"{what} greater than zero")
        return number

    return parse_positive


def at_most(parse: Callable[[object], Any], limit: float, expected: str) -> Callable[[object], Any]:
    """`parse`, then refuse a number above `limit`: a size-like key is bounded, so a typo cannot allocate gigabytes
    or run for years. `expected` says the whole allowed range."""

    def parse_bounded(value: object) -> Any:
        parsed = parse(value)
        if isinstance(parsed, int | float) and not isinstance(parsed, bool) and parsed > limit:
            raise ValueError(expected)
        return parsed

    return parse_bounded


def non_negative_duration(value: object) -> float:
    seconds = parse_duration(value)
    if not 0 <= seconds < float("inf"):
        raise ValueError("a duration of zero or more, such as '5s'")
    return seconds


def positive_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("a whole number of at least 1")
    return value


Choice = TypeVar("Choice", bound=str)


def choice(options: tuple[Choice, ...]) -> Callable[[object], Choice]:
    """A parser accepting exactly one of `options` (typed as their Literal)."""

    def parse_choice(value: object) -> Choice:
        for option in options:
            if value == option:
                return option
        raise ValueError(" or ".join(f"'{option}'" for option in options))

    return parse_choice


def boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value


def fraction_between(low: float, high: float, expected: str) -> Callable[[object], float]:
    """A fraction ('99.5%' or 0.995) strictly between `low` and `high`."""

    def parse_between(value: object) -> float:
        number = parse_fraction(value)
        if not low < number < high:
            raise ValueError(expected)
        return number

    return parse_between


PATH_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")
PATH_NAME_EXPECTED = "letters, digits, '.', '_', '+' or '-', starting with a letter or digit (it names a folder)"


def path_name(value: object) -> str:
    """A service name or version: it becomes a folder or file name (`baselines/<service>/<version>.json`), so no
    separator, no `..`, nothing that leaves the folder."""
    if not isinstance(value, str) or not PATH_NAME.match(value):
        raise ValueError(PATH_NAME_EXPECTED)
    return value
