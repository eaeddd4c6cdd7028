"""Steady reads of one route; edit the paths to your service's. Request names are the routes the gates name."""

from locust import FastHttpUser, constant, task


class Client(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def route(self) -> None:
        self.client.get("/checkout")
