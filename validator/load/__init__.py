"""Load generation with Locust: runs a scenario headless and captures every request into histograms.

Importing this package imports locust first, which monkey-patches the standard library with gevent;
it must happen before `requests` or `prometheus_api_client` are imported anywhere in the process.
"""

import locust  # noqa: F401  (gevent monkey-patching must come first)
