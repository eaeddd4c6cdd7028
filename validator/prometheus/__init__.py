"""Prometheus over a load window: the HTTP client (auth, TLS, retries), the figures and the scope facts."""

from validator.prometheus.client import PrometheusClient, PrometheusUnavailable, QueryFailed, QueryLog
from validator.prometheus.source import WINDOW_PLACEHOLDER, PrometheusSource, Window, window_increases

__all__ = [
    "WINDOW_PLACEHOLDER",
    "PrometheusClient",
    "PrometheusSource",
    "PrometheusUnavailable",
    "QueryFailed",
    "QueryLog",
    "Window",
    "window_increases",
]
