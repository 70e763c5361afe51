"""`python -m sandbox_portal` and `dvcwatch sandbox` as processes: ready file, token, exit codes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from proctree import Proc, descendants, wait_gone

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], **kw) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=ROOT, **kw)


@pytest.mark.parametrize("launcher", [["-m", "sandbox_portal"], ["-m", "dvcwatch", "sandbox"]])
def test_ready_file_token_and_sigterm(tmp_path: Path, launcher: list[str]) -> None:
    ready = tmp_path / "ready.json"
    env = {**os.environ, "DVCWATCH_SANDBOX_TOKEN": "proc-token"}
    proc = subprocess.Popen(
        [
            sys.executable,
            *launcher,
            "--port",
            "0",
            "--ready-file",
            str(ready),
            "--db",
            str(tmp_path / "p.sqlite3"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        assert info["pid"] == proc.pid
        with urllib.request.urlopen(info["url"] + "/api/v1/health", timeout=5) as r:
            assert json.load(r) == {"status": "ok"}
        req = urllib.request.Request(
            info["url"] + "/_sandbox/faults", headers={"Authorization": "Bearer proc-token"}
        )
        with urllib.request.urlopen(req, timeout=5) as r:
            assert json.load(r)["faults"] == []
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert info["url"] in out


def test_random_token_is_printed_when_not_set(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    env = {k: v for k, v in os.environ.items() if k != "DVCWATCH_SANDBOX_TOKEN"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox_portal", "--port", "0", "--ready-file", str(ready)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert ready.exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    token = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("admin token: "))
    assert len(token) >= 16


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("faults:\n  - kind: latncy\n", ":2: faults[0].kind"),
        ("faults:\n  - kind: error\n    service: khai-sinh\n", "unknown service id 'khai-sinh'"),
        ("faults: [\n", "malformed YAML"),
    ],
)
def test_malformed_faults_file_exits_2_with_one_line(tmp_path: Path, content: str, expected: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(content)
    res = _run([sys.executable, "-m", "sandbox_portal", "--port", "0", "--faults", str(bad)])
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0]
    assert str(bad) in lines[0]


def test_missing_faults_file_and_bad_options_exit_2(tmp_path: Path) -> None:
    res = _run(
        [sys.executable, "-m", "sandbox_portal", "--port", "0", "--faults", str(tmp_path / "none.yaml")]
    )
    assert res.returncode == 2 and "file not found" in res.stderr
    res = _run([sys.executable, "-m", "sandbox_portal", "--port", "0", "--clock-speed", "-1"])
    assert res.returncode == 2 and "--clock-speed" in res.stderr


def test_sandbox_command_help_has_an_example() -> None:
    res = _run([sys.executable, "-m", "dvcwatch", "sandbox", "--help"])
    assert res.returncode == 0
    assert "examples:" in res.stdout and "--faults" in res.stdout and "--ready-file" in res.stdout


def test_sandbox_command_does_not_import_the_portal() -> None:
    text = (ROOT / "dvcwatch" / "commands" / "sandbox.py").read_text()
    assert "import sandbox_portal" not in text and "from sandbox_portal" not in text


def test_an_unwritable_db_exits_2_with_one_line(tmp_path: Path) -> None:
    res = _run([sys.executable, "-m", "dvcwatch", "sandbox", "--port", "0", "--db", "/proc/x/dvc.sqlite3"])
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2 and len(lines) == 1, res.stderr
    assert lines[0].startswith("error: --db /proc/x/dvc.sqlite3: cannot create a file in /proc/x")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_signal_to_dvcwatch_sandbox_leaves_nothing_listening(tmp_path: Path, sig: signal.Signals) -> None:
    """`dvcwatch sandbox` replaces itself with the portal: one process, which the signal ends, and
    with it every connection a load test could use."""
    ready = tmp_path / "ready.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "dvcwatch", "sandbox", "--port", "0", "--ready-file", str(ready)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        host, port = info["url"].rsplit("/", 1)[-1].rsplit(":", 1)
        tree = [Proc(proc.pid, os.getpgid(proc.pid), "dvcwatch sandbox"), *descendants(proc.pid)]
        proc.send_signal(sig)
        proc.wait(timeout=30)
        assert wait_gone(tree) == []
        with pytest.raises(OSError):
            socket.create_connection((host, int(port)), timeout=2).close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 0), (signal.SIGHUP, 129)], ids=["SIGTERM", "SIGHUP"])
def test_the_portal_removes_the_folder_it_owns_on_a_stop_signal(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    """SIGHUP (the terminal or SSH session of `dvcwatch sandbox` closed) stops it as SIGTERM does,
    folder removed, but says by its exit code that it was a hang-up, not a deliberate stop."""
    ready, owned = tmp_path / "owned" / "ready.json", tmp_path / "owned"
    owned.mkdir()
    args = ["--port", "0", "--ready-file", str(ready), "--owned-dir", str(owned), "--db", str(owned / "d.db")]
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox_portal", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert ready.exists() and (owned / "d.db").exists()
        proc.send_signal(sig)
        assert proc.wait(timeout=30) == code
        assert not owned.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
