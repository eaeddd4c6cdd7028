"""Default slagate scenario: a read-heavy mix over the target's API paths. Edit it to match your service.

FastHttpUser keeps the generator cheap; every request's latency is captured by slagate through
Locust's `request` event, so nothing here needs to measure anything.
"""

import random

from locust import FastHttpUser, constant, task


class ApiUser(FastHttpUser):
    """One virtual user: browses items, searches, and now and then places an order."""

    wait_time = constant(0)

    @task(5)
    def list_items(self) -> None:
        self.client.get("/api/items")

    @task(3)
    def get_item(self) -> None:
        self.client.get(f"/api/items/{random.randint(1, 1000)}", name="/api/items/{id}")

    @task(2)
    def search(self) -> None:
        self.client.get(f"/api/search?q={random.choice(['red', 'blue', 'green'])}", name="/api/search")

    @task(1)
    def order(self) -> None:
        self.client.post("/api/orders", json={"item": random.randint(1, 1000), "quantity": 1})
