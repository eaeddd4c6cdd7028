"""Mostly items, sometimes a report; request names are the Flask paths, so `route` gates match both sides."""

from locust import FastHttpUser, constant, task


class Reader(FastHttpUser):
    wait_time = constant(0.01)

    @task(3)
    def items(self) -> None:
        self.client.get("/api/items")

    @task(2)
    def report(self) -> None:
        self.client.get("/api/report")
