"""The built-in demo: an HTTP target with tunable latency and errors (`target`), a managed real Prometheus
(`prometheus_server`), and the child-process plumbing that starts both for `slagate run --demo` and the tests
(`processes`). Never needed in production.
"""
