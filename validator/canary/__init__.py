"""What watches the canary after the gate: Prometheus alert rules with their promtool tests, the Grafana dashboard,
and the live PromQL and words of the rollback criteria."""
