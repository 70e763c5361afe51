"""The ward-link stand-in: bytes pass while up; when cut, the client sees silence (a timeout), not a refusal."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dvcwatch.core import processes
from dvcwatch.orchestration import binaries


@pytest.fixture
def echo() -> Iterator[int]:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    stop = threading.Event()

    def serve() -> None:
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    while data := conn.recv(1024):
                        conn.sendall(data)
                except OSError:
                    pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join(timeout=2)
    srv.close()


def _roundtrip(port: int, timeout: float = 1.0) -> bytes | None:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as c:
        c.sendall(b"xin chao")
        try:
            return c.recv(1024)
        except TimeoutError:
            return None


def _wait_state(path: Path, want: str, timeout: float = 10.0) -> None:
    """The proxy writes its state file after it switched (linkproxy.set_cut): poll it, not the clock."""
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        seen = path.read_text().strip() if path.exists() else None
        if seen == want:
            return
        time.sleep(0.02)
    raise AssertionError(f"link state stayed {seen!r}, expected {want!r} within {timeout:.0f} s")


def test_cut_and_restore(tmp_path: Path, echo: int) -> None:
    link = binaries.link_proxy(f"127.0.0.1:{echo}", tmp_path, "phuong-a").start(timeout=20)
    try:
        port = int(binaries.url_of(link).rsplit(":", 1)[1])
        state = tmp_path / "link-state"
        _wait_state(state, "up")  # written once the proxy listens
        assert _roundtrip(port) == b"xin chao"
        os.kill(link.pid, signal.SIGUSR1)
        _wait_state(state, "down")
        assert _roundtrip(port, timeout=0.5) is None  # accepted, then silence
        os.kill(link.pid, signal.SIGUSR2)
        _wait_state(state, "up")
        assert _roundtrip(port) == b"xin chao"
    finally:
        link.stop()
    assert not processes.pid_alive(link.pid)


def test_only_loopback(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "dvcwatch.orchestration.link_proxy", "--upstream", "10.0.0.1:80"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and "not a loopback address" in done.stderr
