"""The demo stack: the demo target and a real Prometheus scraping it, both on loopback, both stopped on exit."""

import contextlib
import dataclasses
from collections.abc import Iterator

from validator.demo.processes import DemoTarget
from validator.demo.prometheus_server import ManagedPrometheus
from validator.demo.target import DemoSettings
from validator.timing import Phase, Phases


@dataclasses.dataclass(frozen=True)
class DemoStack:
    """A running demo target and a real Prometheus scraping it."""

    target: DemoTarget
    prometheus: ManagedPrometheus


@contextlib.contextmanager
def demo_stack(
    settings: DemoSettings | None = None, scrape_interval: str = "1s", phases: Phases | None = None
) -> Iterator[DemoStack]:
    """Start the demo target and a Prometheus that has scraped it at least once; stop both on exit. `phases`
    times the start, the wait for the first scrape and the stop."""
    phases = phases or Phases()
    with contextlib.ExitStack() as running:
        with phases.phase(Phase.DEMO_START):
            target = DemoTarget(settings)
            # Prometheus first: its first scrape waits for a fixed 5 s discovery tick, the target starts meanwhile
            prometheus = running.enter_context(ManagedPrometheus([target.address], scrape_interval))
            running.enter_context(target)
        with phases.phase(Phase.DEMO_SCRAPE):
            prometheus.wait_for_scrape()
        try:
            yield DemoStack(target, prometheus)
        finally:
            with phases.phase(Phase.DEMO_STOP):
                running.close()
