"""`dvcwatch stack up` as the stack's supervisor, on real processes: a signal to it (SIGTERM, SIGHUP or SIGKILL)
leaves no component running and nothing listening; a component killed under it comes back with a new
pid and the on-call hears of it through Alertmanager; `--detach` runs the same supervisor in its own
session and `stack down` stops it. The Pushgateway's state is the run folder's, never the machine's.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from proctree import Proc, descendants, wait_gone

from dvcwatch.core import processes
from dvcwatch.orchestration import binaries

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[4]
CLI = [sys.executable, "-m", "dvcwatch", "stack"]
ENV = {**os.environ, "COLUMNS": "200"}


def _poll(what: str, check: Callable[[], Any], timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def _state(run_dir: Path) -> dict[str, Any]:
    return processes.read_json(run_dir / "state.json") or {}


def _component(state: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in state["components"] if c["name"] == name)


def _supervising(run_dir: Path, pid: int, proc: subprocess.Popen[bytes] | None = None) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"`stack up` exited with {proc.returncode}: {_log(run_dir)}")
        state = _state(run_dir)
        return state if (state.get("supervisor") or {}).get("pid") == pid else None

    return _poll("the stack is up and supervised", ready, 240)


def _log(run_dir: Path) -> str:
    path = run_dir.parent / "up.log"
    return path.read_text(errors="replace")[-2000:] if path.exists() else ""


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return r.status == 200
    except OSError:
        return False


def _refuses(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=2).close()
    except OSError:
        return True
    return False


@pytest.fixture
def foreground(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """`dvcwatch stack up --fast` in the foreground, as a user runs it (its own group, like a shell job)."""
    run_dir = tmp_path / "stack"
    with open(tmp_path / "up.log", "wb") as log:
        proc = subprocess.Popen(
            [*CLI, "--run-dir", str(run_dir), "up", "--fast"],
            cwd=ROOT,
            env=ENV,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield proc, run_dir
    finally:
        if proc.poll() is None:
            proc.kill()  # the components follow by parent-death signal
            proc.wait()


@pytest.mark.parametrize(
    "sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL], ids=["SIGTERM", "SIGHUP", "SIGKILL"]
)
def test_a_signal_to_stack_up_leaves_nothing_running(
    foreground: tuple[subprocess.Popen[bytes], Path], sig: signal.Signals
) -> None:
    proc, run_dir = foreground
    state = _supervising(run_dir, proc.pid, proc)
    tree = descendants(proc.pid)
    pids = {p.pid for p in tree}
    assert {c["pid"] for c in state["components"]} <= pids, "every component is the supervisor's child"
    sandbox = _component(state, "sandbox")
    command = processes.pid_command(sandbox["pid"])
    owned = Path(command[command.index("--owned-dir") + 1])
    assert owned.name.startswith("dvcwatch-sandbox-") and owned.is_dir()

    proc.send_signal(sig)
    proc.wait(timeout=90)
    left = wait_gone([Proc(proc.pid, proc.pid, "stack up"), *tree])
    assert left == [], f"left running after {sig.name}: {left}"
    for name, url in state["urls"].items():
        assert _refuses(url.replace("tcp://", "http://")), f"{name} still listens at {url}"
    assert not owned.exists(), "the embedded sandbox's temporary folder was left behind"
    if sig != signal.SIGKILL:
        # Ctrl-C or SIGTERM is how a person ends a supervisor; a closed terminal is not: 128 + 1
        assert proc.returncode == (129 if sig == signal.SIGHUP else 0), _log(run_dir)
        assert "stopped: prometheus" in _log(run_dir)
        assert _state(run_dir)["supervisor"] is None


def test_a_killed_prometheus_is_restarted_and_the_on_call_notified(
    foreground: tuple[subprocess.Popen[bytes], Path],
) -> None:
    proc, run_dir = foreground
    state = _supervising(run_dir, proc.pid, proc)

    # item 8: the Pushgateway's state is the run folder's, and a fresh stack has nothing pushed
    pushgateway = _component(state, "pushgateway")
    persistence = [
        a for a in processes.pid_command(pushgateway["pid"]) if a.startswith("--persistence.file=")
    ]
    assert persistence == [f"--persistence.file={run_dir.resolve() / 'pushgateway' / 'pushgateway.data'}"]
    with urllib.request.urlopen(pushgateway["url"] + "/api/v1/metrics", timeout=5) as r:
        assert json.load(r)["data"] == [], "a fresh stack's Pushgateway holds groups it never received"

    old = _component(state, "prometheus")
    os.kill(old["pid"], signal.SIGKILL)

    def restarted() -> dict[str, Any] | None:
        new = _component(_state(run_dir), "prometheus")
        if new["pid"] != old["pid"] and new["restarts"] == 1 and _answers(new["url"] + "/-/ready"):
            return new
        return None

    new = _poll("Prometheus answers /-/ready again with a new pid", restarted)
    assert new["url"] == old["url"] and "prometheus" in processes.pid_command(new["pid"])[0]
    assert new["pid"] in {p.pid for p in descendants(proc.pid)}, "the new one is supervised too"

    def notified() -> list[dict[str, Any]]:
        from alerts.webhook import read_jsonl

        return [
            (rec["receiver"], a)
            for rec in read_jsonl(run_dir / "listener" / "alerts.jsonl")
            for a in rec["alerts"]
            if a["labels"]["alertname"] == "DvcStackComponentRestarted"
            and a["labels"].get("component") == "prometheus"
        ]

    receiver, alert = _poll("the listener is told of the restart", notified)[0]
    assert receiver == "sre-ticket" and alert["status"] == "firing"
    assert alert["annotations"]["runbook_url"].endswith("/DvcStackComponentRestarted.md")

    status = subprocess.run(
        [*CLI, "--run-dir", str(run_dir), "status"], cwd=ROOT, env=ENV, capture_output=True, text=True
    )
    row = next(line for line in status.stdout.splitlines() if "│ prometheus " in line)
    assert [cell.strip() for cell in row.split("│")][2:5] == [str(new["pid"]), "up", "1"], status.stdout
    assert f"supervisor: pid {proc.pid}" in status.stdout


def test_detached_stack_is_stopped_by_down(tmp_path: Path) -> None:
    run_dir = tmp_path / "stack"
    up = subprocess.run(
        [*CLI, "--run-dir", str(run_dir), "up", "--fast", "--detach"],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    state = _state(run_dir)
    supervisor = (state.get("supervisor") or {}).get("pid")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert supervisor and processes.pid_alive(supervisor)
        assert os.getsid(supervisor) == supervisor, "the supervisor has a session of its own"
        assert f"supervisor: pid {supervisor}" in up.stdout and "stack --run-dir" in up.stdout
        tree = descendants(supervisor)
        assert {c["pid"] for c in state["components"]} <= {p.pid for p in tree}

        down = subprocess.run(
            [*CLI, "--run-dir", str(run_dir), "down"], cwd=ROOT, env=ENV, capture_output=True, text=True
        )
        assert down.returncode == 0 and "prometheus" in down.stdout and "sandbox" in down.stdout
        assert wait_gone([Proc(supervisor, supervisor, "supervisor"), *tree]) == []
        assert "stopped:" in (run_dir / "supervisor.log").read_text()
    finally:
        if supervisor and processes.pid_alive(supervisor):
            os.kill(supervisor, signal.SIGKILL)


CRASHER = """
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
time.sleep(0.5)
sys.exit(3)
"""


class _AlertmanagerApi(BaseHTTPRequestHandler):
    """Alertmanager's POST /api/v2/alerts, recorded."""

    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.extend(json.loads(body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_component_that_keeps_exiting_is_left_down_and_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Restarts are bounded: after RESTART_LIMIT in the window the supervisor stops trying and posts
    DvcStackComponentFailed (page) after one DvcStackComponentRestarted (ticket) per restart."""
    from dvcwatch.orchestration import stack as stack_module
    from dvcwatch.orchestration.stack import Stack, StackSettings

    monkeypatch.setattr(stack_module, "RESTART_LIMIT", 3)
    monkeypatch.setattr(stack_module, "BACKOFF_MAX", 0.2)
    _AlertmanagerApi.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AlertmanagerApi)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    stop = threading.Event()
    stack = Stack(StackSettings(run_dir=tmp_path / "stack"))
    stack.run_dir.mkdir()
    stack.urls["alertmanager"] = f"http://127.0.0.1:{server.server_port}"
    port = processes.free_port()
    crasher = binaries.Managed(
        "crasher", [sys.executable, "-c", CRASHER, str(port)], f"tcp://127.0.0.1:{port}", tmp_path / "c.log"
    )
    lines: list[str] = []
    watcher = threading.Thread(
        target=stack.supervise, kwargs={"say": lines.append, "stop": stop, "tick": 0.05}
    )
    try:
        crasher.start()
        stack._record("crasher", crasher, f"tcp://127.0.0.1:{port}", "python", crasher.log_path)
        watcher.start()

        def failed() -> list[dict[str, Any]]:
            return [
                a for a in _AlertmanagerApi.received if a["labels"]["alertname"] == "DvcStackComponentFailed"
            ]

        alert = _poll("DvcStackComponentFailed is posted", failed, 60)[0]
        assert alert["labels"] == {
            "alertname": "DvcStackComponentFailed",
            "component": "crasher",
            "severity": "page",
            "owner": "sre",
            "scope": "harness",
        }
        restarted = [
            a for a in _AlertmanagerApi.received if a["labels"]["alertname"] == "DvcStackComponentRestarted"
        ]
        assert len(restarted) <= 3 and all(a["labels"]["severity"] == "ticket" for a in restarted)
        comp = _component(_state(stack.run_dir), "crasher")
        assert comp["failed"] and any("left down" in line for line in lines)
        pid = comp["pid"]
        time.sleep(1.5)  # several ticks: a component left down is not started again
        assert _component(_state(stack.run_dir), "crasher")["pid"] == pid and not processes.pid_alive(pid)
    finally:
        stop.set()
        if watcher.is_alive():
            watcher.join(timeout=10)
        crasher.stop()
        server.shutdown()
        server.server_close()
