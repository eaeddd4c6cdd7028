"""Load generation with Locust: runs a scenario headless and captures every request into histograms.

Importing `locust` monkey-patches the standard library with gevent; it must happen before `requests`
or `prometheus_api_client` are imported in a process that runs load. The modules that run Locust
(`runner`, `worker`, `agent`, `distributed`) import it; the data modules (`capture`, `result`,
`health`'s data, …) do not, so reading or judging a recorded load never patches the importing process.
"""
