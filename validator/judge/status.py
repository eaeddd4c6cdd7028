"""A gate's or a check's status: the value every rule of the judge compares, never its display text."""

from enum import StrEnum


class Status(StrEnum):
    """PASS: met across the whole interval; FAIL: missed across it; WARN: the interval straddles the bound
    (undecided); NO_DATA: nothing to judge (fails closed)."""

    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"
    NO_DATA = "NO_DATA"
