"""The server's Prometheus metrics, in a registry of its own (one per app: tests run many)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class ServeMetrics:
    """Counters, gauges and histograms exposed at ``/metrics``.

    Names start with ``optscale_``; see the Serving guide for what each one counts.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.requests = Counter(
            "optscale_requests",
            "Chat requests answered, by HTTP status",
            ["status"],
            registry=registry,
        )
        self.latency = Histogram(
            "optscale_request_seconds",
            "Time to answer a chat request",
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
        )
        self.samples = Counter(
            "optscale_samples", "Samples drawn from the upstream", registry=registry
        )
        self.tokens = Counter(
            "optscale_tokens", "Tokens spent, by kind", ["kind"], registry=registry
        )
        self.requests_in_flight = Gauge(
            "optscale_requests_in_flight", "Chat requests being answered", registry=registry
        )
        self.samples_in_flight = Gauge(
            "optscale_samples_in_flight", "Samples being generated or scored", registry=registry
        )
        self.calls = Counter(
            "optscale_upstream_calls",
            "Calls to upstream endpoints, by endpoint and outcome",
            ["endpoint", "outcome"],
            registry=registry,
        )
        self.disconnects = Counter(
            "optscale_client_disconnects",
            "Requests whose client went away; their upstream work was cancelled",
            registry=registry,
        )

    def record_call(self, endpoint: str, outcome: str) -> None:
        """Count one upstream call (the callback ``post_json`` takes)."""
        self.calls.labels(endpoint=endpoint, outcome=outcome).inc()

    def render(self) -> bytes:
        """Render every metric in the Prometheus text format."""
        return generate_latest(self.registry)
