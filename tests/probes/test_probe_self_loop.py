"""A portal cannot turn the prober against itself: no probe of its own address, at most a few
redirects a probe, a bound on `/probe` work, and no work left running once its caller has gone."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import FakePortal
from prober_process import start_prober
from prometheus_client.parser import text_string_to_metric_families

from dvcwatch.core.processes import free_port, wait_http


def fds(proc: subprocess.Popen[bytes]) -> int:
    return len(list(Path(f"/proc/{proc.pid}/fd").iterdir()))


def wait_for(cond: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def get(url: str, timeout: float = 30) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.fixture
def prober(tmp_path: Path) -> Iterator[Callable[[str, int], tuple[subprocess.Popen[bytes], str]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(config: str, port: int = 0) -> tuple[subprocess.Popen[bytes], str]:
        port = port or free_port()
        cfg = tmp_path / "probes.yaml"
        cfg.write_text(config)
        proc = start_prober(cfg, port, tmp_path / "prober.log")
        procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/-/healthy", timeout=20, proc=proc)
        return proc, base

    yield start
    for p in procs:
        if p.poll() is None:
            p.terminate()
            p.wait(10)


def sample(base: str, name: str, **labels: str) -> float:
    for fam in text_string_to_metric_families(get(f"{base}/metrics")[1]):
        for s in fam.samples:
            if s.name == name and labels.items() <= s.labels.items():
                return s.value
    return 0.0


def settled_fds(proc: subprocess.Popen[bytes], base: str, portal: FakePortal) -> int:
    """The prober's descriptors once a healthy probe is over (its connection closed)."""
    assert "probe_success 1.0" in get(f"{base}/probe?target={quote(portal.url + '/ok')}")[1]
    return fds(proc)


def test_a_target_redirecting_to_the_probers_own_probe_is_refused(
    portal: FakePortal, prober, tmp_path: Path
) -> None:
    proc, base = prober("vantage: kiosk-1\nprobe_only: true\ndefaults: {timeout: 8s, interval: 60s}\n")
    baseline = settled_fds(proc, base, portal)
    for own in (base, base.replace("127.0.0.1", "localhost"), base.replace("127.0.0.1", "0.0.0.0")):
        portal.loop_to = f"{own}/probe?target={quote(portal.url + '/loop')}"
        before = len(portal.hits["/loop"])
        status, text = get(f"{base}/probe?target={quote(portal.url + '/loop')}")
        assert status == 200 and "probe_success 0.0" in text
        assert len(portal.hits["/loop"]) - before == 1, own  # the prober went once to the target
    # a target naming the prober itself: nothing is sent (no /probe hit on itself either)
    status, text = get(f"{base}/probe?target={quote(base + '/-/healthy')}")
    assert status == 200 and "probe_success 0.0" in text
    assert "the prober's own address" in (tmp_path / "prober.log").read_text()
    wait_for(lambda: fds(proc) <= baseline)


def test_a_scheduled_target_redirecting_to_the_prober_is_refused(
    portal: FakePortal, prober, tmp_path: Path
) -> None:
    port = free_port()
    portal.loop_to = f"http://127.0.0.1:{port}/probe?target={quote(portal.url + '/loop')}"
    _, base = prober(
        "vantage: kiosk-1\ntargets:\n"
        f"  - {{name: loop, kind: http, url: '{portal.url}/loop', interval: 2s, timeout: 1s}}\n",
        port,
    )
    wait_for(lambda: sample(base, "dvc_prober_probes_total", result="failure") >= 1)
    rounds = sample(base, "dvc_prober_probes_total", result="failure")
    assert sample(base, "dvc_probe_success", target="loop") == 0
    assert len(portal.hits["/loop"]) <= rounds + 1  # one a round (one more may be under way), not hundreds


def test_redirects_are_bounded_per_probe(portal: FakePortal, prober) -> None:
    """A portal redirecting to itself forever costs a handful of requests, then the probe fails."""
    _, base = prober("vantage: kiosk-1\nprobe_only: true\ndefaults: {timeout: 8s, interval: 60s}\n")
    portal.loop_to = f"{portal.url}/loop"
    status, text = get(f"{base}/probe?target={quote(portal.url + '/loop')}")
    assert status == 200 and "probe_success 0.0" in text
    # the prober's own bound stops it: aiohttp alone would follow one more (its cap is set above ours)
    assert 1 < len(portal.hits["/loop"]) <= 11


def test_probe_work_stops_when_its_caller_goes_away(portal: FakePortal, prober) -> None:
    proc, base = prober("vantage: kiosk-1\nprobe_only: true\ndefaults: {timeout: 50s, interval: 60s}\n")
    baseline = settled_fds(proc, base, portal)
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(f"GET /probe?target={quote(portal.url + '/hang')} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        wait_for(lambda: len(portal.hits["/hang"]) == 1)
    # the caller hung up: the prober drops its request to the portal, long before its 50 s timeout
    wait_for(lambda: portal.hung_up == 1)
    wait_for(lambda: fds(proc) <= baseline)


def test_probe_work_is_bounded_and_the_rest_is_answered_503_at_once(portal: FakePortal, prober) -> None:
    _, base = prober(
        "vantage: kiosk-1\nprobe_only: true\nconcurrency: 2\ndefaults: {timeout: 50s, interval: 60s}\n"
    )
    host, port = base.removeprefix("http://").split(":")
    held = [socket.create_connection((host, int(port)), timeout=10) for _ in range(2)]
    try:
        for s in held:
            s.sendall(f"GET /probe?target={quote(portal.url + '/hang')} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        wait_for(lambda: len(portal.hits["/hang"]) == 2)
        status, text = get(f"{base}/probe?target={quote(portal.url + '/ok')}", timeout=10)
        assert status == 503 and "2 /probe requests in flight" in text
        assert get(f"{base}/-/healthy", timeout=10)[0] == 200
    finally:
        for s in held:
            s.close()
    wait_for(lambda: portal.hung_up == 2)
    assert "probe_success 1.0" in get(f"{base}/probe?target={quote(portal.url + '/ok')}")[1]
