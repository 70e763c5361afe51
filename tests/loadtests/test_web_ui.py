"""The plain `locust -f loadtests/locustfile.py` with its web UI: a vendor's first contact."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from dvcwatch.core.processes import free_port, wait_http
from loadtests.launcher import LOCUSTFILE, ROOT

pytestmark = pytest.mark.slow

DATA = Path(__file__).with_name("data")


def test_the_locustfile_runs_from_the_web_ui_and_still_reports(sandbox: Any, tmp_path: Path) -> None:
    port = free_port()
    cmd = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--web-host", "127.0.0.1", "--web-port", str(port),
        "--host", sandbox.url, "--dvc-profile", str(DATA / "short-steady.yaml"), "--dvc-out", str(tmp_path),
    ]  # fmt: skip
    log = open(tmp_path / "locust.out", "wb")  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/", timeout=30, proc=proc)
        form = urllib.parse.urlencode({"user_count": 1, "spawn_rate": 1, "host": sandbox.url}).encode()
        with urllib.request.urlopen(base + "/swarm", data=form, timeout=10) as r:
            answer = json.loads(r.read())
        assert answer["success"] and "ProfileShape" in answer["message"]

        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and not (tmp_path / "report.json").exists():
            time.sleep(0.5)
        with urllib.request.urlopen(base + "/stats/requests", timeout=10) as r:
            stats = json.loads(r.read())
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    names = {row["name"] for row in stats["stats"]}
    assert any(n.endswith(":find_service") for n in names) and any(n.endswith(":submit") for n in names)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["profile"]["name"] == "short-steady"
    assert report["stop_reason"] == "completed" and not report["partial"]
    assert report["totals"]["requests"] > 0
