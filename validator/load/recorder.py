"""The `request` event listener: one histogram record per request, plus endpoint and error tallies.

Locust's own statistics round response times (to whole ms, and to 10/100 ms above 100 ms/1 s), so
percentiles come from our µs-resolution histograms instead. In the open model a request's context
carries its intended send time (see `open_model`), and the recorder also records the latency from
that moment (coordinated-omission corrected) and how late the send was.
"""

import math
import time
from collections.abc import Callable
from typing import Any

from validator.load.capture import Capture, EndpointStats, ErrorGroup
from validator.load.histogram import _KEYS_PER_OCTAVE, MIN_VALUE_US

INTENDED_KEY = "slagate_intended"  # request context key: the timetable slot (epoch seconds) of this send
LATE_SEND_THRESHOLD_S = 0.005  # a send leaving more than 5 ms after its slot counts as late


class RequestRecorder:
    """Counts every request Locust reports and, once started, records it into a `Capture`; `drain()` hands over
    what was recorded so far.

    One listener does both: the count is what the capture is checked against (a worker that joined after
    the set-up counts requests it never captured), and a second listener would cost a call per request.
    """

    def __init__(
        self, origin: float | None = None, open_model: bool = False, clock: Callable[[], float] = time.time
    ) -> None:
        self.fired = 0  # request events seen since the recorder was attached, captured or not
        self.capture: Capture | None = None
        self.clock = clock
        if origin is not None:
            self.start(origin, open_model)

    def start(self, origin: float, open_model: bool = False) -> None:
        """Capture from now on, in windows counted from `origin`."""
        if self.capture is not None:
            raise RuntimeError("this recorder was already started for a run")
        self.capture = Capture(origin, open_model)

    def __call__(
        self,
        request_type: str,
        name: str,
        response_time: float,
        exception: BaseException | None = None,
        context: dict[str, Any] | None = None,
        **kw: Any,
    ) -> None:
        self.fired += 1
        capture = self.capture
        if capture is None:
            return
        now = self.clock()
        latency_us = response_time * 1000.0
        value_us = MIN_VALUE_US if latency_us < MIN_VALUE_US else latency_us  # clamped as LatencyHistogram.record does
        key = math.ceil(math.log(value_us, 2) * _KEYS_PER_OCTAVE)  # bucket_key(), inlined: once for both histograms
        success = exception is None
        window = capture.timeline.window_at(now)
        window.histogram.record_key(key, value_us)
        if success:
            window.successes += 1
        else:
            window.failures += 1
        if capture.corrected is not None and capture.late is not None:
            intended = (context or {}).get(INTENDED_KEY)
            corrected_us = latency_us if intended is None else max(latency_us, (now - intended) * 1e6)
            capture.corrected.record(now, corrected_us, success)
            lateness_us = corrected_us - latency_us
            if lateness_us > LATE_SEND_THRESHOLD_S * 1e6:
                capture.late.record(now, lateness_us, True)
        endpoint = f"{request_type} {name}"
        stats = capture.endpoints.get(endpoint)
        if stats is None:
            stats = capture.endpoints[endpoint] = EndpointStats()
        stats.requests += 1
        stats.histogram.record_key(key, value_us)
        if not success:
            stats.failures += 1
            self._error(capture, endpoint, exception, kw.get("response"), now)

    def _error(self, capture: Capture, endpoint: str, exception: BaseException | None, response: Any,
               now: float) -> None:
        status = str(getattr(response, "status_code", None) or "none")
        key = (endpoint, status, type(exception).__name__)
        group = capture.errors.get(key)
        if group is None:
            group = capture.errors[key] = ErrorGroup(*key)
        group.add(now, repr(str(exception)))

    def drain(self) -> Capture | None:
        """What was recorded since the last drain (None before `start`); recording continues into a fresh capture.

        Called from the same gevent loop as the listener and without yielding, so no request is
        counted twice or lost between two drains.
        """
        drained = self.capture
        if drained is not None:
            self.capture = drained.empty_like()
        return drained
