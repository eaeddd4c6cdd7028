"""Steady reads of one templated route; the request name is the route template, as OpenTelemetry's http_route."""

import random

from locust import FastHttpUser, constant, task


class Client(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def cart(self) -> None:
        self.client.get(f"/cart/{random.randint(1, 1000)}", name="/cart/{id}")
