"""The demo stack: the demo target and a real Prometheus scraping it, both on loopback, both stopped on exit."""

import contextlib
import dataclasses
from collections.abc import Iterator

from validator.demo.processes import DemoTarget
from validator.demo.prometheus_server import ManagedPrometheus
from validator.demo.target import DemoSettings


@dataclasses.dataclass(frozen=True)
class DemoStack:
    """A running demo target and a real Prometheus scraping it."""

    target: DemoTarget
    prometheus: ManagedPrometheus


@contextlib.contextmanager
def demo_stack(settings: DemoSettings | None = None, scrape_interval: str = "1s") -> Iterator[DemoStack]:
    """Start the demo target and a Prometheus that has scraped it at least once; stop both on exit."""
    with DemoTarget(settings) as target, ManagedPrometheus([target.address], scrape_interval) as prometheus:
        prometheus.wait_for_scrape()
        yield DemoStack(target, prometheus)
