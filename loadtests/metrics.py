"""The run's live metrics for Prometheus (contracts §7), served by the Locust master.

Declared once here, in a registry of their own. Labels are `service` and `step` (bounded by the
catalog and the step vocabulary); the harness's own requests are left out. Counters follow
Locust's aggregated statistics exactly (each sample adds the window's counts); rates and quantiles
are over the last few samples, so a dashboard shows the load beside the probes' view.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge

from loadtests.counts import Counts, is_portal, split_name

QUANTILES = (0.5, 0.95, 0.99)


class LoadMetrics:
    def __init__(self, profile: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ("service", "step")
        self.users = Gauge("dvc_load_users", "Simulated citizens running now.", registry=self.registry)
        self.requests = Counter(
            "dvc_load_requests", "Requests the load test sent to the portal.", labels, registry=self.registry
        )
        self.failures = Counter(
            "dvc_load_failures",
            "Requests that failed (status, soft failure, timeout).",
            labels,
            registry=self.registry,
        )
        self.rps = Gauge(
            "dvc_load_requests_per_second",
            "Requests per second over the last few seconds.",
            labels,
            registry=self.registry,
        )
        self.latency = Gauge(
            "dvc_load_latency_seconds",
            "Response-time quantiles over the last few seconds.",
            (*labels, "quantile"),
            registry=self.registry,
        )
        self.info = Gauge(
            "dvc_load_run_info",
            "The load profile being run (always 1).",
            ("profile",),
            registry=self.registry,
        )
        self.info.labels(profile=profile).set(1)

    def observe(
        self, users: int, window: Mapping[str, Counts], recent: Mapping[str, Counts], seconds: float
    ) -> None:
        self.users.set(users)
        for name, c in window.items():
            if not is_portal(name):
                continue
            service, step = split_name(name)
            if c.requests > 0:
                self.requests.labels(service, step).inc(c.requests)
            if c.failures > 0:
                self.failures.labels(service, step).inc(c.failures)
        for name, c in recent.items():
            if not is_portal(name):
                continue
            service, step = split_name(name)
            self.rps.labels(service, step).set(c.requests / seconds if seconds > 0 else 0.0)
            for q in QUANTILES:
                v = c.percentile_seconds(q)
                if v is not None:
                    self.latency.labels(service, step, str(q)).set(v)

    def serve(self, host: str, port: int) -> Any:
        """Serve /metrics from a gevent WSGI server (Locust processes run on gevent)."""
        from gevent.pywsgi import WSGIServer
        from prometheus_client import make_wsgi_app

        server = WSGIServer((host, port), make_wsgi_app(self.registry), log=None)
        server.start()
        return server
