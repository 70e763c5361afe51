"""The hand-written /metrics text says exactly what prometheus-client would, only faster; /metrics and
/probe export a result by the same rule."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from dvcwatch.core.processes import free_port
from probes.config import load_config_text
from probes.metrics import ProbeMetrics, probe_exposition
from probes.runner import Result, new_session, record, run_probe, values


def parsed(text: bytes) -> list[tuple[str, tuple[tuple[str, str], ...], float]]:
    return sorted(
        (s.name, tuple(sorted(s.labels.items())), s.value)
        for fam in text_string_to_metric_families(text.decode())
        for s in fam.samples
    )


def test_fast_exposition_equals_client_rendering() -> None:
    m = ProbeMetrics(CollectorRegistry(), "phuong-vinh-hung")
    odd = m.series('quote"and\\slash', "dang-ky-khai-sinh")
    odd.success, odd.status_code, odd.content_match = 0.0, 503.0, 1.0
    odd.tls_expiry, odd.last_run, odd.budget_exceeded = 1795693992.0, 1795693000.25, 1.0
    odd.failed_step = {"login": 0.0, "otp": 1.0}
    for seconds in (0.004, 0.3, 7.5, 99.0):
        odd.observe("total", seconds)
        odd.observe("ttfb", seconds / 2)
    plain = m.series("home", "")
    plain.success, plain.status_code = 1.0, 200.0
    plain.observe("connect", 0.0002)
    m.probes.labels("phuong-vinh-hung", "success").inc(3)
    fast = parsed(m.exposition())
    assert fast == parsed(generate_latest(m.registry))
    by_key = {(n, lbl): v for n, lbl, v in fast}
    total = (
        ("phase", "total"),
        ("service", "dang-ky-khai-sinh"),
        ("target", 'quote"and\\slash'),
        ("vantage", "phuong-vinh-hung"),
    )
    assert by_key[("dvc_probe_duration_seconds_count", total)] == 4
    assert by_key[("dvc_probe_duration_seconds_bucket", tuple(sorted((*total, ("le", "0.5")))))] == 2
    assert by_key[("dvc_prober_probes_total", (("result", "success"), ("vantage", "phuong-vinh-hung")))] == 3


def test_forgotten_target_disappears() -> None:
    m = ProbeMetrics(CollectorRegistry(), "v")
    m.series("gone", "").success = 1.0
    m.forget("gone", "")
    assert b'target="gone"' not in m.exposition()


def gauges(text: bytes) -> dict[str, float]:
    """Each dvc_probe_* gauge of one target (or one /probe answer), by name and step."""
    return {
        s.name + (f"[{s.labels['step']}]" if "step" in s.labels else ""): s.value
        for fam in text_string_to_metric_families(text.decode())
        for s in fam.samples
        if s.name.startswith("dvc_probe_") and "phase" not in s.labels
    }


@pytest.mark.parametrize(
    ("target", "content_match"),
    [
        ("{name: page, module: portal_page, url: 'http://127.0.0.1:PORT/'}", 0.0),  # failed before content
        ("{name: bare, kind: http, url: 'http://127.0.0.1:PORT/'}", None),  # nothing asked of content
        (
            "{name: flow, kind: api_flow, url: 'http://127.0.0.1:PORT/api/v1', service: cap-ho-chieu,"
            " credentials: {synthetic: {seed: 42, index: 0}}}",
            0.0,
        ),
    ],
)
def test_metrics_and_the_probe_endpoint_export_one_result_alike(
    target: str, content_match: float | None
) -> None:
    """`/metrics` and `/probe` turn an observation into metrics by one rule: a target whose kind judges
    content exports `content_match` (0 when the probe failed before any content), on both."""
    port = free_port()  # nothing listens: the probe fails on connect
    config = load_config_text(f"targets:\n  - {target.replace('PORT', str(port))}\n", secrets=False)

    async def probe() -> Result:
        async with new_session() as session:
            return await run_probe(config.targets[0], session)

    result = asyncio.run(probe())
    m = ProbeMetrics(CollectorRegistry(), "v")
    record(m, result)
    on_metrics = gauges(m.exposition())
    on_metrics.pop("dvc_probe_last_run_timestamp_seconds")
    on_probe = gauges(probe_exposition(vantage="v", values=values(result), phases=result.phases))
    assert on_metrics == on_probe
    assert on_probe.get("dvc_probe_content_match") == content_match
    assert on_probe["dvc_probe_success"] == 0.0
    if config.targets[0].kind == "api_flow":
        assert (
            on_probe["dvc_probe_failed_step[login]"] == 1.0 and on_probe["dvc_probe_failed_step[otp]"] == 0.0
        )
