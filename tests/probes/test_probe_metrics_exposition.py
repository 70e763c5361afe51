"""The hand-written /metrics text says exactly what prometheus-client would, only faster."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from probes.metrics import ProbeMetrics


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
