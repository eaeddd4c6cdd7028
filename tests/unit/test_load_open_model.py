"""The open-model timetable: the configured rate, split exactly over processes, and a linear ramp."""

import itertools

import pytest

from validator.load.open_model import ArrivalPlan, slot_offsets


def first(plan: ArrivalPlan, until: float, seed: int | None = 1) -> list[float]:
    return list(itertools.takewhile(lambda t: t < until, slot_offsets(plan, seed)))


def test_fixed_timetable_split_over_processes_is_the_single_timetable() -> None:
    single = first(ArrivalPlan(100.0, "fixed", 0.0, 0.0), 10.0)
    parts = sorted(t for i in range(3) for t in first(ArrivalPlan(100.0, "fixed", 0.0, 0.0, i, 3), 10.0))
    assert len(single) == 1000
    assert parts == pytest.approx(single)


def test_poisson_timetable_holds_the_rate_over_processes() -> None:
    slots = [t for i in range(2) for t in first(ArrivalPlan(1000.0, "poisson", 0.0, 0.0, i, 2), 20.0, seed=i)]
    assert len(slots) == pytest.approx(20_000, rel=0.03)


def test_ramp_rises_linearly_then_holds() -> None:
    slots = first(ArrivalPlan(200.0, "fixed", 4.0, 0.0), 8.0)
    during = [t for t in slots if t < 4.0]
    assert len(during) == pytest.approx(200 * 4 / 2, abs=1)  # the area under the ramp
    assert len([t for t in during if t < 2.0]) == pytest.approx(len(during) / 4, abs=1)
    assert len(slots) - len(during) == pytest.approx(800, abs=1)
