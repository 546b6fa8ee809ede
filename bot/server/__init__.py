"""What `cibot serve` runs besides Slack's own listeners: the HTTP server (Slack events, CI
webhooks, probes, metrics), the webhook parsers, the process lifecycle, and observability (JSON
logs, Prometheus metrics, readiness)."""
