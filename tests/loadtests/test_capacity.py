"""Against the sandbox's capacity model (6 workers × 0.15 s = 40 req/s): the knee, and the gates at
half the capacity and far past it. Each run is a real `dvcwatch load` with Locust child processes.

The knee is checked against the capacity the sandbox delivered in the same run (requests finished per
second while all its workers were wanted), not the model's 40: on a machine whose cores something
else keeps busy, the sandbox's own handlers and wake-ups make each worker slower, and a load test
that then finds 32 req/s has found the portal's real capacity that day. Measured under two `yes`: a
knee of 31.8 req/s failed against the model's 40; in another run, 39.7 against 38.1 delivered; in a
third, where the capacity swung from stage to stage, 38.9 against an average of 31.2 delivered. So the
knee must reach 80 % of the average delivered and stay within what the model can serve."""

from __future__ import annotations

import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from dvcwatch.core.processes import free_port

pytestmark = pytest.mark.slow

DATA = Path(__file__).with_name("data")


def test_the_stepped_ramp_finds_the_knee_within_20_percent_of_capacity(
    capacity_sandbox: Any, tmp_path: Path, run_load: Any, sandbox_admin: Any
) -> None:
    capacity = sandbox_admin(capacity_sandbox, "/_sandbox/faults")["capacity_rps"]
    assert capacity == pytest.approx(40)
    code, report = run_load(
        "--profile",
        str(DATA / "knee-ramp.yaml"),
        "--host",
        capacity_sandbox.url,
        "--out",
        str(tmp_path / "out"),
    )
    assert report is not None, code
    knee = report["knee"]
    seen = [(s["users_measured"], s["successes_per_second"], s["p95"]) for s in report["stages"]]
    assert knee["found"], (knee, seen)
    faults = sandbox_admin(capacity_sandbox, "/_sandbox/faults")["faults"]
    delivered = next(f for f in faults if f["kind"] == "capacity")["delivered_rps"]
    assert delivered is not None and delivered <= capacity * 1.02, (delivered, seen)
    # `delivered` is an average over every saturated moment; a stage's throughput is what the sandbox
    # gave in that stage. Idle, both are ~40. On a starved machine the capacity itself swings between
    # stages (under two `yes`: 19, 35, 23, 34 req/s at 15-30 users) and the knee, a stage's figure,
    # may sit above the average (38.9 against 31.2) but never above what the model can serve.
    assert delivered * 0.8 <= knee["requests_per_second"] <= capacity * 1.02, (knee, delivered, seen)
    assert not report["partial"]
    assert len(report["stages"]) == 8
    # below the knee the portal kept up: the first stage is within every SLO
    assert report["stages"][0]["within_slo"], report["stages"][0]
    assert (tmp_path / "out" / "report.html").read_text().count("<svg") >= 4


def test_half_capacity_passes_its_gates_with_live_metrics(
    capacity_sandbox: Any, tmp_path: Path, run_load: Any
) -> None:
    port = free_port()
    scraped: list[str] = []

    def scrape() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not scraped:
            time.sleep(0.5)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                    text = r.read().decode()
            except OSError:
                continue
            if 'step="submit"' in text and "dvc_load_users 9.0" in text:
                scraped.append(text)

    scraper = threading.Thread(target=scrape, daemon=True)
    scraper.start()
    code, report = run_load(
        "--profile",
        str(DATA / "constant-half.yaml"),
        "--host",
        capacity_sandbox.url,
        "--out",
        str(tmp_path / "out"),
        "--metrics-port",
        str(port),
    )
    scraper.join(timeout=5)
    assert report is not None
    assert code == 0, [g for g in report["gates"] if not g["passed"]]
    assert report["passed"] and not report["broken_gates"]
    assert report["totals"]["requests_per_second"] == pytest.approx(20, rel=0.35)
    assert scraped, "the master never served the run's metrics"
    text = scraped[0]
    assert 'dvc_load_run_info{profile="constant-half"} 1.0' in text
    assert "dvc_load_requests_total{" in text
    assert 'dvc_load_latency_seconds{quantile="0.95",service=' in text
    assert "_harness" not in text


def test_overload_fails_its_gates_and_says_which(
    capacity_sandbox: Any, tmp_path: Path, run_load: Any
) -> None:
    code, report = run_load(
        "--profile",
        str(DATA / "constant-overload.yaml"),
        "--host",
        capacity_sandbox.url,
        "--out",
        str(tmp_path / "out"),
    )
    assert code == 1
    assert report is not None and not report["passed"]
    assert any(name.startswith("latency.") for name in report["broken_gates"])
    html = (tmp_path / "out" / "report.html").read_text()
    assert "GATES BROKEN" in html
    # throughput is held at the capacity however many citizens push
    assert report["totals"]["successes_per_second"] < 40 * 1.1
