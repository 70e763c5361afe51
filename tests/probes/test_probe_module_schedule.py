"""A module's timeout is bounded by the scrape's, not an interval, when /probe uses it: a module
whose timeout exceeds its interval serves /probe; a target inheriting it is refused on load."""

from __future__ import annotations

from urllib.parse import quote

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from conftest import FakePortal
from prometheus_client import CollectorRegistry

from dvcwatch.core.errors import ConfigError
from probes.config import load_config_text
from probes.exporter import Exporter
from probes.metrics import ProbeMetrics

MODULES = "modules:\n  slow_page: {kind: http, interval: 5s, timeout: 20s}\n"


async def test_a_module_whose_timeout_exceeds_its_interval_serves_probe(portal: FakePortal) -> None:
    config = load_config_text(f"vantage: kiosk-1\nprobe_only: true\n{MODULES}", secrets=False)
    async with aiohttp.ClientSession() as session:
        exporter = Exporter(ProbeMetrics(CollectorRegistry(), config.vantage), session, lambda: config)
        async with TestClient(TestServer(exporter.app(), host="127.0.0.1")) as client:
            resp = await client.get(f"/probe?module=slow_page&target={quote(portal.url + '/ok')}")
            body = await resp.text()
    assert resp.status == 200, body
    assert "probe_success 1.0" in body


def test_a_target_inheriting_it_is_refused_at_its_timeout() -> None:
    with pytest.raises(ConfigError) as info:
        load_config_text(
            f"{MODULES}targets:\n  - {{name: home, module: slow_page, url: 'http://127.0.0.1/'}}\n",
            "probes.yaml",
            secrets=False,
        )
    err = info.value
    assert (err.line, err.field) == (4, "targets[0](home).timeout")
    assert "timeout (20 s) is longer than interval minus jitter (4.5 s)" in err.detail
