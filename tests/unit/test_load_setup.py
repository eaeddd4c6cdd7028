"""The master's set-up hand-shake: a set-up a worker dropped is sent again until the worker confirms it."""

from types import SimpleNamespace

from validator.load.capture import Capture
from validator.load.distributed import Collected, Master, MasterOptions, WorkerState


def test_a_dropped_set_up_is_sent_again_until_the_worker_confirms() -> None:
    master = Master.__new__(Master)  # no Locust runner: only the hand-shake is under test
    master.collected = Collected(Capture(0.0))
    state = master.collected.workers["w1"] = WorkerState("w1", 0)
    sent: list[tuple[str, dict]] = []

    def send_message(kind: str, data: dict, client_id: str) -> None:
        sent.append((client_id, data))
        state.ready = len(sent) == 2  # the first set-up arrived before the worker's handlers existed

    master.runner = SimpleNamespace(send_message=send_message, clients=SimpleNamespace(ready=[]))
    master.options, master.port = MasterOptions(), 1
    setup = {"origin": 0.0, "index": 0, "plan": None}
    master._set_up({"w1": setup}, None)
    assert sent == [("w1", setup), ("w1", setup)]
