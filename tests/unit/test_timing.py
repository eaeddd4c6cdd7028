"""Where the time goes (`--verbose`): phases timed on one clock from the process's start, nested ones taken out of
the outer one, so the breakdown never adds up to more than the wall time; and the wait for the scrape after the
window looks again when the target's schedule makes that scrape due."""

import time

import pytest

from validator.prometheus.source import INGEST_S, POLL_S, pause_before_next_look
from validator.report.console import BREAKDOWN_TITLE, PHASE_WORDS, breakdown_lines
from validator.timing import Phase, Phases, command_started, process_start


def test_the_process_started_before_this_test_and_not_long_before_the_interpreter_did() -> None:
    started = process_start()
    assert started < time.monotonic()
    assert time.monotonic() - started < 3600  # a test session, not the machine's uptime


def test_the_breakdown_lists_each_phase_once_in_order_and_never_sums_above_the_wall_time() -> None:
    phases = command_started()
    with phases.phase(Phase.INPUTS):
        time.sleep(0.01)
    load_start = time.monotonic()
    time.sleep(0.03)
    phases.add(Phase.LOAD, load_start, time.monotonic())
    outer = time.monotonic()
    with phases.phase(Phase.WRITING):
        time.sleep(0.01)
        with phases.phase(Phase.CHARTS):  # nested: taken out of the writing
            time.sleep(0.02)
    outer = time.monotonic() - outer
    with phases.phase(Phase.INPUTS):  # a phase that runs again adds up
        time.sleep(0.01)

    breakdown = phases.breakdown()
    assert list(breakdown.seconds) == [Phase.IMPORTS, Phase.INPUTS, Phase.LOAD, Phase.CHARTS, Phase.WRITING]
    assert sum(breakdown.seconds.values()) <= breakdown.wall
    assert breakdown.other == pytest.approx(breakdown.wall - sum(breakdown.seconds.values()))
    assert breakdown.seconds[Phase.INPUTS] >= 0.02
    assert breakdown.seconds[Phase.CHARTS] >= 0.02 and breakdown.seconds[Phase.WRITING] >= 0.01
    assert breakdown.seconds[Phase.WRITING] + breakdown.seconds[Phase.CHARTS] <= outer  # nothing counted twice
    assert breakdown.outside_load == pytest.approx(breakdown.wall - breakdown.seconds[Phase.LOAD])
    assert breakdown.load_start is not None and breakdown.load_end is not None
    assert breakdown.load_start >= breakdown.seconds[Phase.IMPORTS] + 0.01  # after the first spec read
    assert breakdown.load_end - breakdown.load_start == pytest.approx(breakdown.seconds[Phase.LOAD])


def test_a_phase_left_by_an_exception_is_still_counted() -> None:
    phases = Phases()
    with pytest.raises(KeyError), phases.phase(Phase.JUDGING):
        raise KeyError("judging failed")
    assert Phase.JUDGING in phases.breakdown().seconds


def test_the_breakdown_lines_name_every_phase_that_ran_and_the_totals() -> None:
    phases = command_started()
    for phase in Phase:
        with phases.phase(phase):
            pass
    lines = breakdown_lines(phases.breakdown())
    assert lines[0] == BREAKDOWN_TITLE
    shown = [line.rsplit(None, 1)[0].strip() for line in lines[1:]]
    assert shown == [*(PHASE_WORDS[phase] for phase in Phase), "other: run folder, progress lines, gaps", "total",
                     "outside the load", "start → load start", "load end → verdict"]
    figures = [float(line.rsplit(None, 1)[1]) for line in lines[1:]]
    assert sum(figures[: len(Phase) + 1]) == pytest.approx(figures[len(Phase) + 1], abs=0.01 * len(Phase))


def test_without_a_load_the_breakdown_has_no_load_totals() -> None:
    phases = command_started()
    with phases.phase(Phase.JUDGING):
        pass
    lines = breakdown_lines(phases.breakdown())
    assert not any("load" in line for line in lines), lines


def test_the_next_look_for_the_scrape_after_the_window_comes_just_after_it_is_due() -> None:
    interval, moment = 1.0, 100.0
    # the last scrape at 99.4: the next one is due at 100.4, looked for INGEST_S later
    assert pause_before_next_look(99.4, moment, interval, now=100.3) == pytest.approx(0.1 + INGEST_S)
    assert pause_before_next_look(99.4, moment, interval, now=100.0) == POLL_S  # never longer than POLL_S
    assert pause_before_next_look(97.9, moment, interval, now=100.8) == pytest.approx(0.1 + INGEST_S)  # due at 100.9
    # late (a slower scrape, or a wrong scrape_interval in the spec) or nothing scraped yet: every POLL_S
    assert pause_before_next_look(99.4, moment, interval, now=100.5) == POLL_S
    assert pause_before_next_look(None, moment, interval, now=100.0) == POLL_S
