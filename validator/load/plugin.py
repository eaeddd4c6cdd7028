"""Lets a plain `locust --worker` serve a slagate master: import this module in the locustfile.

    import validator.load.plugin  # noqa: F401  (slagate worker support)

Then `locust -f locustfile.py --worker --master-host HOST --master-port 5557` joins
`slagate run --expect-workers N --master-bind 0.0.0.0:5557` exactly as `slagate worker` does, so
images and orchestrators that run stock Locust workers (the Locust Helm chart, the Locust
Kubernetes operator) need only slagate installed and this import. Elsewhere (a slagate master, a
`slagate worker`, a plain local Locust run) the import does nothing.
"""

from typing import Any

from locust import events
from locust.env import Environment
from locust.runners import WorkerRunner

from validator.load.worker import attach


@events.init.add_listener
def _serve_slagate_master(environment: Environment, runner: Any = None, **kw: Any) -> None:
    if isinstance(runner, WorkerRunner):
        attach(environment, runner)
