"""Synthetic monitoring: the sweep pushes to a real Pushgateway and serves its own /metrics on a schedule."""

from __future__ import annotations

import threading
import time
import urllib.request
from pathlib import Path

import pytest

from dvcwatch.commands.cli import main
from dvcwatch.core import processes
from dvcwatch.orchestration import binaries

pytestmark = [pytest.mark.browser, pytest.mark.prometheus, pytest.mark.slow]


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.read().decode()
    except OSError:
        return ""


def test_every_with_listen_serves_metrics_and_pushes_each_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DVCWATCH_SHOP_MIN_EVERY", "1s")  # the sweeps back to back, not a minute apart
    port = processes.free_port()
    codes: list[int] = []
    with binaries.pushgateway(tmp_path / "pgw") as gateway:
        argv = [
            "shop", "--service", "thong-bao-luu-tru", "--every", "1s", "--max-runs", "2",
            "--listen", f"127.0.0.1:{port}", "--pushgateway", binaries.url_of(gateway),
            "--vantage", "ward-7", "--out", str(tmp_path / "runs"),
        ]  # fmt: skip
        worker = threading.Thread(target=lambda: codes.append(main(argv)), daemon=True)
        worker.start()
        served = ""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and worker.is_alive():
            served = fetch(f"http://127.0.0.1:{port}/metrics")
            if "dvc_journey_success{" in served:
                break
            time.sleep(0.2)
        worker.join(timeout=180)
        pushed = fetch(binaries.url_of(gateway) + "/metrics")
    assert codes == [0]
    key = 'persona="desktop",portal="sandbox",service="thong-bao-luu-tru",vantage="ward-7"'
    assert f"dvc_journey_success{{{key}}} 1.0" in served
    step_key = 'persona="desktop",portal="sandbox",service="thong-bao-luu-tru",step="submit",vantage="ward-7"'
    assert f"dvc_journey_step_duration_seconds{{{step_key}}}" in served
    pushed_key = (
        'instance="",job="dvcwatch_shop",persona="desktop",portal="sandbox",service="thong-bao-luu-tru",'
        'vantage="ward-7"'
    )
    assert f"dvc_journey_success{{{pushed_key}}} 1" in pushed
    assert len(list((tmp_path / "runs").glob("run-*/results.json"))) >= 1
