"""Measurement checks: saturation, lost workers, incomplete capture, Little's law, client/server gap, verdict cap."""

import io

import pytest

from validator.judge.gates import GateResult, Status
from validator.judge.verdict import Decision, decide
from validator.load.capture import Capture
from validator.load.progress import Progress
from validator.load.recorder import INTENDED_KEY, RequestRecorder
from validator.load.result import LoadResult
from validator.measure import checks
from validator.measure.client_figures import client_measurements
from validator.spec import GateSpec
from validator.spec.metrics import BUILTIN_METRICS

ORIGIN = 1000.0


def closed_load(users: int = 20, latency_ms: float = 20.0, rate: int = 1000, **facts) -> LoadResult:
    """A closed-model result of 10 s at `rate` requests/s, all of `latency_ms`."""
    now = [ORIGIN]
    recorder = RequestRecorder(ORIGIN, clock=lambda: now[0])
    for i in range(rate * 10):
        now[0] = ORIGIN + i / rate
        recorder("GET", "/", latency_ms)
    capture: Capture = recorder.drain()
    defaults = {
        "window_start": ORIGIN + 2,
        "window_end": ORIGIN + 9,
        "profile": {
            "model": "closed",
            "users": users,
            "spawn_rate": float(users),
            "mean_wait_s": 0.0,
            "duration_s": 10.0,
            "warmup_s": 2.0,
            "workers": 1,
            "target": "http://127.0.0.1:1",
            "locustfile": "loadtests/locustfile.py",
        },
        "generator": {},
        "locust_requests": capture.requests,
    }
    return LoadResult.from_capture(capture, **(defaults | facts))


def samples(cpu: float, lag_ms: float) -> list[list[float]]:
    return [[ORIGIN + i * 0.5, cpu, lag_ms] for i in range(20)]


def server(seconds: float) -> dict[float, float | None]:
    """The server's p50, p95 and p99, all `seconds`."""
    return dict.fromkeys(checks.QUANTILES, seconds)


def test_a_healthy_consistent_run_has_no_warnings() -> None:
    load = closed_load(health={"worker 0": samples(40, 1)})
    result = checks.check_run(load, server(0.020), 2.0)
    assert result.warnings == [] and result.client_reliable
    assert 0.95 < result.little["ratio"] < 1.05
    assert all(row["ratio"] is not None and not row["flagged"] for row in result.comparison)


def test_saturated_generator_is_flagged_and_client_marked_unreliable() -> None:
    load = closed_load(health={"worker 0": samples(99, 1), "worker 1": samples(30, 120)})
    result = checks.check_run(load, {}, 2.0)
    assert not result.client_reliable
    assert len(result.warnings) == 1 and "saturated" in result.warnings[0]
    assert "worker 0" in result.warnings[0] and "worker 1" in result.warnings[0]
    assert checks.check_run(load, {}, 2.0).to_dict()["generator_health"]["saturated"] is True


def test_a_saturated_master_is_a_note_since_the_workers_measure() -> None:
    load = closed_load(health={"master": samples(99, 80), "worker 0": samples(40, 1)})
    result = checks.check_run(load, {}, 2.0)
    assert result.client_reliable and not result.warnings
    assert any(note.startswith("the master was saturated (master: CPU mean 99 %") for note in result.notes)
    assert result.to_dict()["generator_health"]["saturated"] is False


def test_lost_worker_and_incomplete_capture_are_warnings() -> None:
    lost = {"id": "w1", "index": 1, "requests_reported": 123, "last_report": ORIGIN + 3, "lost": True}
    exited = "pid 42 exited with status -9: (no output)"
    load = closed_load(workers=[lost], locust_requests=10_001, generator={"worker_exits": [exited]})
    result = checks.check_run(load, {}, 2.0)
    assert any("worker 1 (w1) was lost" in w and "123 requests" in w for w in result.warnings)
    assert any("Locust reported 10001" in w for w in result.warnings)
    assert f"a local worker process exited during the load: {exited}" in result.notes


def test_littles_law_mismatch_means_unaccounted_time() -> None:
    load = closed_load(users=40)  # 1000/s × 20 ms = 20 users busy, but 40 configured
    result = checks.check_run(load, {}, 2.0)
    assert any("Little's law" in w and "50 %" in w for w in result.warnings)
    assert not result.client_reliable


def test_client_server_gap_beyond_the_factor_is_flagged() -> None:
    result = checks.check_run(closed_load(), server(0.005), 2.0)  # client 20 ms vs server 5 ms
    assert all(row["flagged"] for row in result.comparison)
    assert any("×2" in w and "selector" in w for w in result.warnings)
    assert checks.check_run(closed_load(), server(0.005), 5.0).warnings == []


def test_measurement_warnings_keep_the_verdict_from_go() -> None:
    gate = GateSpec(name="p99", metric=BUILTIN_METRICS["latency_p99"], severity="critical", max=1.0)
    passing = [GateResult(gate, Status.PASS, "within bound", "test")]
    assert decide(passing).decision is Decision.GO
    verdict = decide(passing, None, ["load worker 1 was lost"])
    assert verdict.decision is Decision.CAUTION
    assert any("measurement warning: load worker 1 was lost" in r for r in verdict.reasons)


def test_progress_is_one_line_every_few_seconds_when_not_a_terminal() -> None:
    load = closed_load()
    stream = io.StringIO()
    progress = Progress(30, stream, interactive=False)
    for second in range(1, 11):
        progress.update(second, load.timeline)
    progress.finish()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in stream.getvalue()
    assert lines[0].startswith("slagate: load 1/30 s · 1000 req/s · 0 errors · p99 20 ms")


def test_a_warning_in_any_of_several_runs_counts() -> None:
    lost = {"id": "w1", "index": 1, "requests_reported": 7, "last_report": None, "lost": True}
    result = checks.check_runs([closed_load(), closed_load(workers=[lost])], [server(0.020)] * 2, 2.0)
    assert len(result.warnings) == 1 and result.warnings[0].startswith("run 2: load worker 1 (w1) was lost")
    assert [run.lost_workers for run in result.runs] == [[], [lost]]
    assert checks.check_runs([closed_load()], [server(0.020)], 2.0).warnings == []


def test_every_run_keeps_its_own_checks() -> None:
    """Run 1 agrees with its server; run 2's client is 4× its server: only run 2 is flagged, both rows stay."""
    slow = closed_load(latency_ms=80.0, users=80)
    result = checks.check_runs([closed_load(), slow], [server(0.020), server(0.020)], 2.0)
    first, second = result.runs
    assert [row["flagged"] for row in first.comparison] == [False] * 3
    assert [row["flagged"] for row in second.comparison] == [True] * 3
    assert first.little["mean_latency_s"] == pytest.approx(0.020) and second.little["mean_latency_s"] == pytest.approx(
        0.080
    )
    assert [w.split(":")[0] for w in result.warnings] == ["run 2"]
    assert [run["run"] for run in result.to_dict()["runs"]] == [1, 2]


def test_a_worker_that_joined_late_is_a_warning_only_when_it_sent_requests() -> None:
    late = {"id": "w2", "index": 2, "requests_reported": 0, "last_report": ORIGIN + 9, "lost": False}
    late |= {"joined_late": True, "locust_requests": 500}
    sent = checks.check_run(closed_load(workers=[late], locust_requests=10_500), {}, 2.0)
    assert [w for w in sent.warnings if "connected after" in w] == sent.warnings  # not also "reports were lost"
    assert "worker 2 (w2) connected after the load started and sent 500 requests" in sent.warnings[0]
    idle = checks.check_run(closed_load(workers=[late | {"locust_requests": 0}]), {}, 2.0)
    assert not idle.warnings and any("Locust gave it no users" in note for note in idle.notes)


def open_load(rate: int, users: int, latency_ms: float, late_every: int, late_by_s: float) -> LoadResult:
    """An open-model result of 10 s at `rate`/s, every `late_every`-th send leaving `late_by_s` behind its slot."""
    now = [ORIGIN]
    recorder = RequestRecorder(ORIGIN, open_model=True, clock=lambda: now[0])
    for i in range(rate * 10):
        now[0] = ORIGIN + i / rate
        slot = now[0] - latency_ms / 1000 - (late_by_s if i % late_every == 0 else 0.0)
        recorder("GET", "/", latency_ms, context={INTENDED_KEY: slot})
    capture = recorder.drain()
    profile = {"model": "open", "arrival_rate": float(rate), "users": users, "duration_s": 10.0, "warmup_s": 2.0,
               "workers": 1, "target": "http://127.0.0.1:1", "locustfile": "loadtests/locustfile.py"}
    return LoadResult.from_capture(capture, window_start=ORIGIN + 2, window_end=ORIGIN + 9, profile=profile,
                                   generator={}, locust_requests=capture.requests)


def test_an_open_model_timetable_kept_has_no_warning() -> None:
    assert checks.check_run(open_load(300, 100, 20.0, 1000, 0.05), {}, 2.0).warnings == []  # 0.1 % late


def test_an_exhausted_user_pool_is_named_when_sends_leave_late() -> None:
    result = checks.check_run(open_load(3000, 100, 30.0, 3, 0.4), {}, 2.0)  # a third of the sends 400 ms late
    (warning,) = result.warnings
    assert warning.startswith("open model timetable not kept: ") and "(33.33 %) left late, by 400 ms at p50" in warning
    assert "the user pool was exhausted: 3000/s × the target's p95 latency 30 ms needs about 90 users at once, of " \
        "100" in warning


def test_a_generator_behind_its_timetable_with_a_prompt_target_is_named() -> None:
    result = checks.check_run(open_load(300, 100, 5.0, 50, 0.3), {}, 2.0)  # 2 % late by 300 ms, pool nearly idle
    assert any("the generator fell behind while the target answered within 5 ms at p95" in w for w in result.warnings)


def test_a_corrected_gate_judges_latency_from_the_intended_send_time() -> None:
    load = open_load(3000, 100, 30.0, 3, 0.4)  # a third of the sends 400 ms late
    gate = GateSpec(name="p99 as sent", metric=BUILTIN_METRICS["latency_p99"], severity="critical", max=0.25,
                    source="corrected")
    (key, figure), = client_measurements(load, [gate]).items()
    assert key == "client corrected:latency_p99" and "intended send time" in figure.source
    assert figure.evidence.estimate() == pytest.approx(0.43, rel=0.02)  # 30 ms + 400 ms, against a raw 30 ms
    assert client_measurements(closed_load(), [gate])[key].evidence is None  # a closed model has no send slots
