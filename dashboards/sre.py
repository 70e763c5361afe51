"""The SRE view: availability and latency by service and vantage, burn rates, firing alerts.

Availability is shown per vantage on purpose: the first question in an outage is "everyone, or one
ward?" (DvcPortalDown vs DvcVantageLinkDown). Burn rates use the recording rules of alerts/rules so
the dashboard and the alerts cannot disagree.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from dashboards import panels as p

UID = "dvcwatch-sre"
SEL = 'service=~"$service", vantage=~"$vantage"'


def build() -> db.Dashboard:
    d = p.new_dashboard(
        UID,
        "DVC · SRE",
        "Availability and latency by service and vantage, error-budget burn rates, firing alerts.",
        ["sre"],
    )
    d = d.with_variable(p.label_variable("vantage", "Vantage", "dvc_probe_success"))
    d = d.with_variable(p.label_variable("service", "Service", 'dvc_probe_success{service!=""}'))

    d = _alerts(d)
    d = _availability(d)
    d = _latency(d)
    d = _failures(d)
    d = _error_budget(d)
    d = _the_prober(d)
    return d


def _alerts(d: db.Dashboard) -> db.Dashboard:
    d = d.with_row(p.row("Alerts"))
    d = d.with_panel(
        p.listing(
            "Firing alerts",
            "ALERTS as Prometheus evaluates them (Alertmanager may inhibit some: see its UI). "
            "DvcWatchdog, the always-firing heartbeat, is left out: it is not a problem.",
            'ALERTS{alertstate="firing", alertname!="DvcWatchdog"}',
            height=7,
        )
    )
    return d


def _availability(d: db.Dashboard) -> db.Dashboard:
    d = d.with_row(p.row("Availability"))
    d = d.with_panel(
        p.graph(
            "Probe success by vantage (portal down vs one link down)",
            "Share of probes succeeding per vantage. All low: the portal. One low: that vantage's link.",
            ('vantage:dvc_probe_success:avg{vantage=~"$vantage"}', "{{vantage}}"),
            unit="percentunit",
            max_value=1,
        )
    )
    d = d.with_panel(
        p.graph(
            "Availability by service and vantage",
            "Probe success averaged over the rate interval.",
            (
                f"avg by (service, vantage) (avg_over_time(dvc_probe_success{{{SEL}}}[$__rate_interval]))",
                "{{service}} @ {{vantage}}",
            ),
            unit="percentunit",
            max_value=1,
        )
    )
    return d


def _latency(d: db.Dashboard) -> db.Dashboard:
    d = d.with_panel(
        p.graph(
            "Latency p95 by service and vantage",
            "Total probe duration, 95th percentile.",
            (
                "histogram_quantile(0.95, sum by (le, service, vantage) ("
                f'rate(dvc_probe_duration_seconds_bucket{{phase="total", {SEL}}}[$__rate_interval])))',
                "{{service}} @ {{vantage}}",
            ),
            unit="s",
        )
    )
    d = d.with_panel(
        p.graph(
            "Latency p95 by phase",
            "Where the time goes: dns, connect, tls, ttfb, transfer.",
            (
                "histogram_quantile(0.95, sum by (le, phase) ("
                f'rate(dvc_probe_duration_seconds_bucket{{phase!="total", {SEL}}}[$__rate_interval])))',
                "{{phase}}",
            ),
            unit="s",
        )
    )
    return d


def _failures(d: db.Dashboard) -> db.Dashboard:
    d = d.with_panel(
        p.graph(
            "Soft failures (HTTP 200 with an error page)",
            "Probes answered 200 whose content check failed.",
            (
                "count by (service) ((dvc_probe_content_match{" + SEL + "} == 0)"
                " and on (target, service, vantage) (dvc_probe_http_status_code == 200)) or vector(0)",
                "{{service}}",
            ),
        )
    )
    d = d.with_panel(
        p.graph(
            "HTTP status of failing probes",
            "Status codes of probes that fail; 0 means no answer (timeout, reset, DNS).",
            (
                f'count_values("code", dvc_probe_http_status_code{{{SEL}}}'
                f" and on (target, service, vantage) (dvc_probe_success == 0)) or vector(0)",
                "{{code}}",
            ),
        )
    )
    return d


def _error_budget(d: db.Dashboard) -> db.Dashboard:
    d = d.with_row(p.row("Error budget (SLO burn rate)"))
    for kind, series, target in (
        ("Availability", "service:dvc_probe_error:ratio_avg", "service:dvc_slo_availability:target"),
        ("Latency", "service:dvc_probe_slow:ratio_rate", "service:dvc_slo_latency:target"),
    ):
        d = d.with_panel(
            p.graph(
                f"{kind} burn rate (1 = exactly on budget)",
                "Error ratio divided by the error budget (1 - target). Fast-burn pages above 14.4 (1h), "
                "slow-burn tickets above 3 (1d).",
                (f'{series}1h{{service=~"$service"}} / on (service) (1 - {target})', "{{service}} 1h"),
                (f'{series}5m{{service=~"$service"}} / on (service) (1 - {target})', "{{service}} 5m"),
            )
        )
    return d


def _the_prober(d: db.Dashboard) -> db.Dashboard:
    d = d.with_row(p.row("The prober itself"))
    d = d.with_panel(
        p.graph(
            "Probes per second by vantage and result",
            "dvc_prober_probes_total; late or dropped probes mean the prober is overloaded.",
            (
                'sum by (vantage, result) (rate(dvc_prober_probes_total{vantage=~"$vantage"}[$__rate_interval]))',
                "{{vantage}} {{result}}",
            ),
            unit="reqps",
        )
    )
    d = d.with_panel(
        p.graph(
            "Seconds since the last probe",
            "Per vantage; DvcProberNotReporting fires when this stays high.",
            (
                'time() - max by (vantage) (dvc_probe_last_run_timestamp_seconds{vantage=~"$vantage"})',
                "{{vantage}}",
            ),
            unit="s",
        )
    )
    return d
