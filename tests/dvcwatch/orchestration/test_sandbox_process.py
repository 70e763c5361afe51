"""The embedded-sandbox launcher: waits for the ready file, hands out the URL, always cleans up.

The launcher's side of the contract (docs/contracts.md §2) is tested against a tiny stand-in portal
that keeps the same promises (ready file written atomically, SIGTERM stops it), so a hung, crashing
or slow portal can be imitated exactly; one test then starts the real `python -m sandbox_portal`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest
from proctree import descendants, wait_gone

from dvcwatch.orchestration.sandbox_process import EmbeddedSandbox, SandboxStartError

ROOT = Path(__file__).resolve().parents[3]

STAND_IN = textwrap.dedent(
    """
    import http.server, json, os, subprocess, sys, time

    args = sys.argv[1:]
    ready = args[args.index("--ready-file") + 1]
    mode = args[args.index("--mode") + 1] if "--mode" in args else "ok"
    if mode == "crash":
        print("stand-in portal: cannot open the database", file=sys.stderr, flush=True)
        sys.exit(3)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    with open(os.environ["STAND_IN_CHILD"], "w") as f:
        f.write(str(child.pid))
    if mode == "never-ready":
        time.sleep(60)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"status": "ok", "token": os.environ.get("DVCWATCH_SANDBOX_TOKEN")}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    tmp = ready + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"url": f"http://127.0.0.1:{server.server_port}/", "pid": os.getpid()}, f)
    os.replace(tmp, ready)
    server.serve_forever()
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def _gone(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make EmbeddedSandbox launch the stand-in portal; returns the file its grandchild's pid lands in."""
    script = tmp_path / "stand_in_portal.py"
    script.write_text(STAND_IN, encoding="utf-8")
    child_pid_file = tmp_path / "child.pid"
    monkeypatch.setenv("STAND_IN_CHILD", str(child_pid_file))
    temp_root = tmp_path / "tmp"
    temp_root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp_root))

    def command(self: EmbeddedSandbox, ready_file: Path) -> list[str]:
        return [sys.executable, str(script), "--ready-file", str(ready_file), *self.extra_args]

    monkeypatch.setattr(EmbeddedSandbox, "command", command)
    return child_pid_file


def _get(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def test_start_returns_the_ready_files_url_and_passes_the_admin_token(stand_in: Path) -> None:
    with EmbeddedSandbox(token="secret-token") as sb:
        assert sb.url is not None and sb.url.startswith("http://127.0.0.1:")
        assert not sb.url.endswith("/"), "the trailing slash is stripped so paths can be appended"
        answer = _get(sb.url + "/api/v1/health")
    assert answer == {"status": "ok", "token": "secret-token"}


def test_stop_ends_the_portal_and_its_children_and_removes_temp_files(stand_in: Path, tmp_path: Path) -> None:
    sb = EmbeddedSandbox().start()
    assert sb.proc is not None
    portal_pid, child_pid = sb.proc.pid, int(stand_in.read_text())
    assert _alive(portal_pid) and _alive(child_pid)
    sb.stop()
    assert _gone(portal_pid) and _gone(child_pid), "the whole process group is stopped"
    assert list((tmp_path / "tmp").iterdir()) == []
    sb.stop()  # stopping twice is harmless


def test_the_context_manager_stops_the_portal_when_the_body_fails(stand_in: Path) -> None:
    with pytest.raises(RuntimeError, match="journey blew up"), EmbeddedSandbox() as sb:
        assert sb.proc is not None
        pid = sb.proc.pid
        raise RuntimeError("journey blew up")
    assert _gone(pid)


def test_a_portal_that_crashes_at_start_is_one_clear_error(stand_in: Path, tmp_path: Path) -> None:
    log = tmp_path / "sandbox.log"
    sb = EmbeddedSandbox(extra_args=["--mode", "crash"], log_path=log)
    with pytest.raises(SandboxStartError, match=rf"exited with code 3; see {log}") as info:
        sb.start(timeout=20)
    assert info.value.exit_code == 2
    assert "cannot open the database" in log.read_text()
    assert list((tmp_path / "tmp").iterdir()) == [], "no temp dir left behind"


def test_a_portal_that_never_gets_ready_is_stopped_after_the_timeout(stand_in: Path, tmp_path: Path) -> None:
    sb = EmbeddedSandbox(extra_args=["--mode", "never-ready"])
    # start() gives up on its own timeout (pytest-timeout bounds a start that never returns)
    with pytest.raises(SandboxStartError, match=r"did not become ready within 1\.5"):
        sb.start(timeout=1.5)
    assert _gone(int(stand_in.read_text())), "a hung portal's children are stopped too"
    assert list((tmp_path / "tmp").iterdir()) == []


def test_the_command_follows_the_sandbox_cli_contract(tmp_path: Path) -> None:
    sb = EmbeddedSandbox(faults=tmp_path / "faults.yaml", db=tmp_path / "db.sqlite3", seed=7)
    cmd = sb.command(tmp_path / "ready.json")
    assert cmd[:3] == [sys.executable, "-m", "sandbox_portal"]
    pairs = dict(zip(cmd[3::2], cmd[4::2], strict=True))
    assert pairs == {
        "--host": "127.0.0.1",
        "--port": "0",
        "--ready-file": str(tmp_path / "ready.json"),
        "--owned-dir": str(tmp_path),
        "--faults": str(tmp_path / "faults.yaml"),
        "--db": str(tmp_path / "db.sqlite3"),
        "--seed": "7",
    }


def test_the_token_comes_from_the_environment_or_is_random(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVCWATCH_SANDBOX_TOKEN", "from-env")
    assert EmbeddedSandbox().token == "from-env"
    monkeypatch.delenv("DVCWATCH_SANDBOX_TOKEN")
    a, b = EmbeddedSandbox().token, EmbeddedSandbox().token
    assert a != b and len(a) >= 20


def test_the_real_sandbox_portal_starts_answers_and_stops(tmp_path: Path) -> None:
    if not (ROOT / "sandbox_portal" / "__main__.py").exists():
        pytest.skip("sandbox_portal has no __main__ yet (built in parallel)")
    with EmbeddedSandbox(token="t", log_path=tmp_path / "sandbox.log") as sb:
        assert sb.proc is not None
        pid = sb.proc.pid
        assert _get(sb.url + "/api/v1/health")["status"] == "ok"
    assert _gone(pid, within=10)


def test_without_a_db_the_portal_keeps_its_file_in_the_folder_it_removes(tmp_path: Path) -> None:
    cmd = EmbeddedSandbox().command(tmp_path / "ready.json")
    pairs = dict(zip(cmd[3::2], cmd[4::2], strict=True))
    assert pairs["--db"] == str(tmp_path / "sandbox.sqlite3") and pairs["--owned-dir"] == str(tmp_path)


PARENT = """
import sys, time
from dvcwatch.orchestration.sandbox_process import EmbeddedSandbox
sb = EmbeddedSandbox(token="t").start()
print(sb._tmp, sb.proc.pid, sb.url, flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_killed_parent_leaves_no_portal_and_no_temp_folder(sig: signal.Signals) -> None:
    """The parent gets no chance to clean up: the portal dies with it (parent-death signal) and removes
    the temporary folder it was told it owns."""
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], cwd=ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert parent.stdout is not None
        folder, pid, url = parent.stdout.readline().split()
        assert Path(folder).name.startswith("dvcwatch-sandbox-") and Path(folder).is_dir()
        assert _get(url + "/api/v1/health")["status"] == "ok"
        tree = descendants(parent.pid)
        assert int(pid) in {p.pid for p in tree}
        parent.send_signal(sig)
        parent.wait(timeout=30)
        assert wait_gone(tree) == []
        assert not Path(folder).exists(), "the sandbox's temporary folder outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
