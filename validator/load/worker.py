"""A slagate load worker: a Locust worker process that ships its exact histograms to the master.

Run by the master for local workers (`python -m validator.load.worker`), or by hand on other machines
(`slagate worker --master HOST`). Reports go over Locust's own channel: every report the worker sends
(Locust's own every 3 s, ours every second, and a final one on request) carries our capture delta and
the count of request events fired since the last report, taken in the same instant, so the merged
capture holds exactly the merged count.
"""

import argparse
import gc
import logging
from collections.abc import Callable
from typing import Any

import gevent
from locust.env import Environment
from locust.runners import WorkerRunner

from validator.load.agent import REPORT_KEY, LoadAgent
from validator.load.locustfile import user_classes_from
from validator.load.open_model import ArrivalPlan

SETUP_MESSAGE = "slagate_setup"  # master → worker: origin and this worker's share of the timetable
READY_MESSAGE = "slagate_ready"  # worker → master: configured, users may be spawned
FLUSH_MESSAGE = "slagate_flush"  # master → worker: users are stopped, send everything now
REPORT_EVERY_SECONDS = 1.0
DEFAULT_MASTER_PORT = 5557


def run_worker(master_host: str, master_port: int, locustfile: str) -> None:
    """Connect to the master, generate the load it asks for, and return when it says quit."""
    environment = Environment(user_classes=user_classes_from(locustfile))
    gc.collect()
    gc.freeze()  # start-up's objects live to the end: no collection during the load walks them (as Locust's workers)
    runner = environment.create_worker_runner(master_host, master_port)
    detach = attach(environment, runner)
    runner.greenlet.join()
    detach()


def attach(environment: Environment, runner: WorkerRunner) -> Callable[[], None]:
    """Make a Locust worker serve a slagate master: capture, answer setup and flush, report every second.

    Used by `run_worker` and by `validator.load.plugin` (a plain `locust --worker`); returns a
    function that stops the background reporting.
    """
    agent = LoadAgent(environment)
    final = {"requested": False}

    def add_our_report(client_id: str, data: dict[str, Any], **kw: Any) -> None:
        data[REPORT_KEY] = agent.report(final=final["requested"])

    def send_report() -> None:
        data: dict[str, Any] = {}
        environment.events.report_to_master.fire(client_id=runner.client_id, data=data)
        runner.send_message("stats", data)

    def on_setup(environment: Environment, msg: Any, **kw: Any) -> None:
        setup = msg.data
        if not agent.configured:  # the master may send it again until it hears READY
            plan = None if setup["plan"] is None else ArrivalPlan(**setup["plan"])
            agent.configure(setup["origin"], plan, setup.get("request_timeout"))
        runner.send_message(READY_MESSAGE, {"index": setup["index"]})

    def on_flush(environment: Environment, msg: Any, **kw: Any) -> None:
        final["requested"] = True
        send_report()

    environment.events.report_to_master.add_listener(add_our_report)
    runner.register_message(SETUP_MESSAGE, on_setup)
    runner.register_message(FLUSH_MESSAGE, on_flush)
    reporter = gevent.spawn(_every, REPORT_EVERY_SECONDS, send_report, runner)

    def detach() -> None:
        reporter.kill()
        agent.stop()

    return detach


def _every(seconds: float, action: Any, runner: WorkerRunner) -> None:
    """Call `action` every `seconds` while the worker is connected (a lost master just skips reports)."""
    while True:
        gevent.sleep(seconds)
        if runner.connected:
            action()


def main(argv: list[str] | None = None) -> None:
    """`python -m validator.load.worker --master-host H --master-port P --locustfile F`."""
    parser = argparse.ArgumentParser(prog="python -m validator.load.worker", description=__doc__)
    parser.add_argument("--master-host", default="127.0.0.1")
    parser.add_argument("--master-port", type=int, default=DEFAULT_MASTER_PORT)
    parser.add_argument("--locustfile", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s worker %(levelname)s %(message)s")
    run_worker(args.master_host, args.master_port, args.locustfile)


if __name__ == "__main__":
    main()
