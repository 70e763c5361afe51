"""The prober's index page lists its targets with every name escaped (a target name is operator text)."""

from __future__ import annotations

import aiohttp
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from probes.config import load_config_text
from probes.exporter import Exporter
from probes.metrics import ProbeMetrics


async def test_index_lists_targets_and_escapes_their_names() -> None:
    config = load_config_text(
        "vantage: phuong-vinh-hung\n"
        "targets:\n"
        "  - {name: '<script>x</script> & co', kind: http, url: 'http://127.0.0.1:1/', interval: 15s}\n"
        "  - {name: plain, kind: tls, url: '127.0.0.1:1', interval: 2.5s, timeout: 1s}\n",
        secrets=False,
    )
    async with aiohttp.ClientSession() as session:
        exporter = Exporter(ProbeMetrics(CollectorRegistry(), config.vantage), session, lambda: config)
        async with TestClient(TestServer(exporter.app(), host="127.0.0.1")) as client:
            resp = await client.get("/")
            body = await resp.text()
    assert resp.status == 200 and resp.content_type == "text/html"
    assert "dvcwatch prober · phuong-vinh-hung" in body
    assert "<li>&lt;script&gt;x&lt;/script&gt; &amp; co (http, every 15 s)</li>" in body
    assert "<li>plain (tls, every 2.5 s)</li>" in body
    assert "<script>" not in body and "2 targets" in body
