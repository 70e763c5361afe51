"""The load-test view: the load a run puts on the portal, beside the portal's own latency and errors
as the probes see them, so a knee in one is read against the other on the same time axis."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from dashboards import panels as p

UID = "dvcwatch-load"


def build() -> db.Dashboard:
    d = p.new_dashboard(
        UID,
        "DVC · Load test",
        "Simulated citizens and their requests (dvcwatch load) beside what the probers see at the same time.",
        ["load"],
    )
    d = d.time("now-1h", "now").refresh("10s")
    d = d.with_variable(p.label_variable("step", "Step", "dvc_load_requests_total"))
    d = _load(d)
    d = _the_portal_under_load(d)
    return d


def _load(d: db.Dashboard) -> db.Dashboard:
    d = d.with_row(p.row("Load"))
    d = d.with_panel(
        p.graph(
            "Simulated citizens",
            "dvc_load_users: users running now.",
            ("dvc_load_users", "users"),
            width=8,
        )
    )
    d = d.with_panel(
        p.graph(
            "Requests per second by step",
            "What the load test sends, by step of the citizen's path.",
            ('sum by (step) (dvc_load_requests_per_second{step=~"$step"})', "{{step}}"),
            unit="reqps",
            width=8,
        )
    )
    d = d.with_panel(
        p.graph(
            "Load-test failure ratio by step",
            "Failed requests (status, soft failure, timeout) / requests.",
            (
                # a step without failures has no failure series yet: count it as 0 %, not "no data"
                '(sum by (step) (rate(dvc_load_failures_total{step=~"$step"}[$__rate_interval]))'
                ' or 0 * sum by (step) (rate(dvc_load_requests_total{step=~"$step"}[$__rate_interval])))'
                ' / sum by (step) (rate(dvc_load_requests_total{step=~"$step"}[$__rate_interval]))',
                "{{step}}",
            ),
            unit="percentunit",
            width=8,
        )
    )
    return d


def _the_portal_under_load(d: db.Dashboard) -> db.Dashboard:
    d = d.with_row(p.row("The portal under that load"))
    d = d.with_panel(
        p.graph(
            "Load-test latency p95 by step",
            "dvc_load_latency_seconds{quantile=0.95}, as the simulated citizens waited.",
            ('max by (step) (dvc_load_latency_seconds{quantile="0.95", step=~"$step"})', "{{step}}"),
            unit="s",
        )
    )
    d = d.with_panel(
        p.graph(
            "Probe latency p95 (independent of the load generator)",
            "What the probers saw at the same time: a second opinion on the portal's latency.",
            (
                "histogram_quantile(0.95, sum by (le, vantage) ("
                'rate(dvc_probe_duration_seconds_bucket{phase="total"}[$__rate_interval])))',
                "probes @ {{vantage}}",
            ),
            unit="s",
        )
    )
    d = d.with_panel(
        p.graph(
            "Probe failures during the run",
            "Share of probes failing per vantage: does the load make the portal fail for everyone else?",
            ("1 - vantage:dvc_probe_success:avg", "{{vantage}}"),
            unit="percentunit",
            max_value=1,
        )
    )
    d = d.with_panel(
        p.graph(
            "Load profile running",
            "dvc_load_run_info: which load profile is on.",
            ("dvc_load_run_info", "{{profile}}"),
        )
    )
    return d
