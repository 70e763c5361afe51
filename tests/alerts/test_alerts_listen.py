"""`dvcwatch alerts listen` as Alertmanager meets it: POST a webhook, see a line, find it in the JSONL."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from alerts.webhook import read_jsonl
from dvcwatch.core import processes

PAYLOAD = {
    "version": "4",
    "receiver": "sre-page",
    "status": "firing",
    "groupLabels": {"alertname": "DvcPortalDown"},
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "DvcPortalDown", "severity": "page", "owner": "sre", "scope": "portal"},
            "annotations": {
                "summary_vi": "Cổng dịch vụ công không truy cập được",
                "summary_en": "Portal down",
            },
            "startsAt": "2026-01-01T00:00:00Z",
        }
    ],
}


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[str]]]:
    port = processes.free_port()
    out = tmp_path / "alerts.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "dvcwatch", "alerts", "listen", "--port", str(port), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        processes.wait_http(f"{url}/-/ready", timeout=20, proc=proc)  # type: ignore[arg-type]
        yield url, out, proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _post(url: str, body: bytes) -> int:
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_notification_is_printed_and_stored(listener: tuple[str, Path, subprocess.Popen[str]]) -> None:
    url, out, proc = listener
    assert _post(f"{url}/hooks/sre-page", json.dumps(PAYLOAD).encode()) == 200
    stored = read_jsonl(out)
    assert len(stored) == 1
    assert stored[0]["receiver"] == "sre-page" and stored[0]["path"] == "/hooks/sre-page"
    assert stored[0]["alerts"][0]["labels"]["alertname"] == "DvcPortalDown"
    assert abs(stored[0]["received_at"] - time.time()) < 30
    with urllib.request.urlopen(f"{url}/received", timeout=5) as r:
        assert len(json.loads(r.read())) == 1
    proc.terminate()
    printed = proc.communicate(timeout=10)[0]
    assert "DvcPortalDown (page, sre) → sre-page" in printed
    assert "Cổng dịch vụ công không truy cập được" in printed


def test_garbage_is_refused_and_not_stored(listener: tuple[str, Path, subprocess.Popen[str]]) -> None:
    url, out, _ = listener
    assert _post(f"{url}/hooks/x", b"not json") == 400
    assert _post(f"{url}/hooks/x", b"[1, 2]") == 400
    assert read_jsonl(out) == []


def test_a_busy_port_is_one_clear_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "dvcwatch",
                "alerts",
                "listen",
                "--port",
                str(port),
                "--out",
                str(tmp_path / "a"),
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr
