"""The report's table of errors seen by the load generator: one row per (route, status, exception) group."""

from typing import Any

from validator.load.result import LoadResult
from validator.report.markdown import cell, code, utc


def error_rows(load: LoadResult | None) -> list[dict[str, Any]]:
    """Each error group with its count, when it was first and last seen, and a sample message as inline code."""
    if load is None:
        return []
    return [
        {
            "endpoint": cell(group.endpoint),
            "status": cell(group.status),
            "exception": cell(group.exception),
            "count": group.count,
            "first_seen": utc(group.first_seen),
            "last_seen": utc(group.last_seen),
            "sample": code(group.sample),
        }
        for group in load.errors
    ]
