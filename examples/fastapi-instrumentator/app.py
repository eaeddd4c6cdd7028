"""A FastAPI service instrumented by prometheus-fastapi-instrumentator with its defaults (run: uvicorn app:app)."""

import asyncio
import random

from fastapi import FastAPI
from prometheus_fastapi_instrumentator import Instrumentator

app = FastAPI()


@app.get("/api/items")
async def items() -> dict[str, bool]:
    await asyncio.sleep(random.uniform(0.010, 0.030))
    return {"ok": True}


@app.get("/api/checkout")
async def checkout() -> dict[str, bool]:
    await asyncio.sleep(random.uniform(0.100, 0.160))
    return {"ok": True}


Instrumentator().instrument(app).expose(app)  # /metrics; default buckets 0.1, 0.5, 1 s
