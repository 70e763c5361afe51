"""Every `dvc_journey_*` metric (docs/contracts.md §7), declared once, filled from a sweep's results.

Each sweep writes into a fresh registry (as blackbox_exporter does per probe), so a service that left
the sweep does not linger with stale values; the pushgateway and the --listen server both serve it.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge

from dvcwatch.core.steps import STEPS
from playwright_journeys.results import RunResults

# portal: the target profile's name (one per portal watched, so few values), as the history records it;
# one Prometheus can then hold many portals' sweeps and the leaders' overview a row per portal
LABELS = ("service", "persona", "vantage", "portal")


class JourneyMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.success = Gauge(
            "dvc_journey_success",
            "1 if the citizen completed the service (pass or degraded), 0 if not; absent for a "
            "production journey that may not file (dvc_journey_not_filed)",
            LABELS,
            registry=r,
        )
        self.degraded = Gauge(
            "dvc_journey_degraded",
            "1 if completed but too slow or at a lower level than promised",
            LABELS,
            registry=r,
        )
        self.level_shortfall = Gauge(
            "dvc_journey_level_shortfall",
            "1 when a fully-online (toàn trình) service delivered only a partly-online one",
            LABELS,
            registry=r,
        )
        self.failed_step = Gauge(
            "dvc_journey_failed_step", "1 on the step where the journey failed", (*LABELS, "step"), registry=r
        )
        self.duration = Gauge(
            "dvc_journey_duration_seconds", "wall time of the whole journey", LABELS, registry=r
        )
        self.step_duration = Gauge(
            "dvc_journey_step_duration_seconds",
            "wall time of one step of the journey",
            (*LABELS, "step"),
            registry=r,
        )
        self.last_run = Gauge(
            "dvc_journey_last_run_timestamp_seconds",
            "when this journey last finished (Unix time)",
            LABELS,
            registry=r,
        )
        self.not_filed = Gauge(
            "dvc_journey_not_filed",
            "1 when a production (look, don't touch) journey got as far as it may without filing; "
            "step is the furthest step checked",
            (*LABELS, "step"),
            registry=r,
        )
        self.harness_error = Gauge(
            "dvc_journey_harness_error",
            "1 if the harness could not run the journey (not the portal's fault)",
            LABELS,
            registry=r,
        )

    def observe(self, run: RunResults, now: float) -> None:
        for res in run.results:
            key = (res.service, res.persona, run.vantage, run.target.name)
            if res.verdict == "not_filed":
                # proved up to filing, not end to end: neither a success nor a failure to alert on
                self.not_filed.labels(*key, res.checked_to or "").set(1)
            else:
                self.success.labels(*key).set(1 if res.completed else 0)
            self.degraded.labels(*key).set(1 if res.verdict == "degraded" else 0)
            self.level_shortfall.labels(*key).set(1 if res.level_shortfall else 0)
            self.harness_error.labels(*key).set(1 if res.verdict == "error" else 0)
            self.duration.labels(*key).set(res.duration_seconds)
            self.last_run.labels(*key).set(now)
            for step in STEPS:
                self.failed_step.labels(*key, step).set(1 if res.failed_step == step else 0)
            for s in res.steps:
                if s.status in ("passed", "failed"):
                    self.step_duration.labels(*key, s.name).set(s.duration_seconds)


def registry_for(run: RunResults, now: float) -> CollectorRegistry:
    m = JourneyMetrics()
    m.observe(run, now)
    return m.registry


def push(run: RunResults, gateway: str, now: float) -> None:
    """Push under job=dvcwatch_shop, grouped by portal and vantage (and shard) so that two portals
    swept from one vantage point, two vantage points or two shards of one sweep do not replace each
    other's group."""
    from prometheus_client import push_to_gateway

    key = {"portal": run.target.name, "vantage": run.vantage}
    if run.shard != "1/1":
        key["instance"] = "shard-" + run.shard.replace("/", "-of-")
    push_to_gateway(
        gateway, job="dvcwatch_shop", grouping_key=key, registry=registry_for(run, now), timeout=10
    )


class LatestRun:
    """A collector that always serves the newest sweep (for `--listen`, synthetic-monitoring mode)."""

    def __init__(self) -> None:
        self._registry: CollectorRegistry | None = None

    def update(self, run: RunResults, now: float) -> None:
        self._registry = registry_for(run, now)

    def collect(self):  # type: ignore[no-untyped-def]
        if self._registry is not None:
            yield from self._registry.collect()


def serve(addr: str, latest: LatestRun):  # type: ignore[no-untyped-def]
    """Serve /metrics on host:port; returns the server so the caller can shut it down."""
    from prometheus_client import start_http_server

    host, _, port = addr.rpartition(":")
    registry = CollectorRegistry()
    registry.register(latest)  # type: ignore[arg-type]
    server, _thread = start_http_server(int(port), addr=host or "127.0.0.1", registry=registry)
    return server
