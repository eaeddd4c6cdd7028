"""Browse items, now and then check out; request names are the FastAPI routes, so `route` gates match both sides."""

from locust import FastHttpUser, constant, task


class Shopper(FastHttpUser):
    wait_time = constant(0.01)

    @task(9)
    def items(self) -> None:
        self.client.get("/api/items")

    @task(1)
    def checkout(self) -> None:
        self.client.get("/api/checkout")
