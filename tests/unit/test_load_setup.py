"""The master's set-up hand-shake: a set-up a worker dropped is sent again until the worker confirms it."""

from collections.abc import Iterator

import pytest
from locust import HttpUser, task
from locust.env import Environment
from locust.rpc.protocol import Message

from validator.load.capture import Capture
from validator.load.distributed import Collected, Master, MasterOptions, WorkerState
from validator.load.worker import READY_MESSAGE, SETUP_MESSAGE


class Idle(HttpUser):
    host = "http://127.0.0.1:1"

    @task
    def nothing(self) -> None:
        """Never run: no users are started."""


@pytest.fixture()
def master() -> Iterator[Master]:
    """A real Locust master on a free loopback port, with no worker connected."""
    master = Master(Environment(user_classes=[Idle]), MasterOptions())
    try:
        yield master
    finally:
        master.runner.quit()


def test_a_dropped_set_up_is_sent_again_until_the_worker_confirms(master: Master) -> None:
    """The worker is simulated at the transport: the first set-up is lost, the second answered with READY."""
    master.collected = Collected(Capture(0.0))
    master.collected.workers["w1"] = WorkerState("w1", 0)
    sent: list[tuple[str, str, dict]] = []

    def send_message(kind: str, data: dict, client_id: str) -> None:
        sent.append((kind, client_id, data))
        if len(sent) == 2:  # the first set-up arrived before the worker's handlers existed
            master.runner.custom_messages[READY_MESSAGE][0](environment=master.environment, msg=ready)

    ready = Message(READY_MESSAGE, None, "w1")
    master.runner.send_message = send_message  # type: ignore[method-assign]
    setup = {"origin": 0.0, "index": 0, "plan": None}
    master._set_up({"w1": setup}, None)
    assert sent == [(SETUP_MESSAGE, "w1", setup), (SETUP_MESSAGE, "w1", setup)]
    assert master.collected.workers["w1"].ready


def test_each_report_adds_the_request_events_its_worker_fired_even_from_an_earlier_slagate(master: Master) -> None:
    """A report carries the worker's count of request events beside its capture; a worker of an earlier slagate
    sends none and keeps Locust's statistics, whose count stands in for it."""
    master.collected = Collected(Capture(0.0))
    delta = Capture(0.0)
    payload = {"capture": delta.to_dict(), "health": [], "final": False}
    master._on_report("now", {"slagate": {**payload, "fired": 7}, "stats_total": {"num_requests": 0}})
    master._on_report("earlier", {"slagate": payload, "stats_total": {"num_requests": 5}})
    assert master.collected.workers["now"].locust_requests == 7
    assert master.collected.workers["earlier"].locust_requests == 5
