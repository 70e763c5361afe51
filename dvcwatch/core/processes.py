"""Child processes that die with their owner, free ports, readiness waits and pid facts.

Core because every layer starts children: the Locust launcher (an instrument), the embedded sandbox and
the stack (orchestration) all need the same guarantees, a child in its own process group (so it can be
stopped with everything it started, even by another `dvcwatch` invocation that only knows the pid) that
gets a signal when its parent dies. Reading processes goes through psutil; only the parent-death signal
is set with ctypes, as psutil has no prctl.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import psutil

from dvcwatch.core.errors import DvcwatchError
from dvcwatch.core.waiting import poll_until

BINARIES = {
    "prometheus": "prometheus",
    "promtool": "promtool",
    "alertmanager": "prometheus-alertmanager",
    "pushgateway": "prometheus-pushgateway",
    "blackbox": "prometheus-blackbox-exporter",
}


class MissingBinary(DvcwatchError):
    pass


_PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """`preexec_fn` for every child dvcwatch starts: the kernel sends `sig` to the child when the
    thread that started it dies, even by SIGKILL, so no load, sandbox or exporter outlives the command
    that owns it (children live in their own sessions, so a signal to the parent's group misses them).

    The kernel ties this to the *thread* that forked: start children from the main thread or from a
    thread that lives as long as they should. Runs between fork and exec, so it only makes syscalls.
    Done with ctypes: psutil has no prctl, and no library offers PR_SET_PDEATHSIG alone."""
    import ctypes

    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def child_kwargs(sig: int = signal.SIGTERM) -> dict[str, object]:
    """Popen keyword arguments for a child that has its own process group (so it can be stopped as a
    whole, by pid, without touching ours) and still dies with us."""
    return {"start_new_session": True, "preexec_fn": lambda: die_with_parent(sig)}


def binary(name: str) -> str:
    exe = BINARIES.get(name, name)
    path = shutil.which(exe) or shutil.which(exe, path="/usr/bin:/usr/sbin")
    if not path:
        raise MissingBinary(
            f"{exe} is not installed; run ./scripts/bootstrap (it installs the Debian package)"
        )
    return path


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until `url` answers 200; fail fast if `proc` died."""
    last = ""

    def answers() -> bool:
        nonlocal last
        if proc is not None and proc.poll() is not None:
            raise DvcwatchError(f"process for {url} exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
            return False

    if not poll_until(answers, timeout, 0.1):
        raise DvcwatchError(f"{url} did not answer within {timeout:.0f} s ({last})")


def wait_tcp(
    host: str, port: int, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    def accepts() -> bool:
        if proc is not None and proc.poll() is not None:
            raise DvcwatchError(f"process for {host}:{port} exited with code {proc.returncode}")
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            return False

    if not poll_until(accepts, timeout, 0.05):
        raise DvcwatchError(f"{host}:{port} did not accept connections within {timeout:.0f} s")


def pid_alive(pid: int) -> bool:
    """True while `pid` runs; a zombie has exited (only its parent has not reaped it yet)."""
    if pid <= 0:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:  # someone else's process: it exists
        return True


def pid_command(pid: int) -> list[str]:
    """The process's argv, or [] once it has gone (or is a zombie, which has none)."""
    try:
        return psutil.Process(pid).cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return []


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a live process has used so far."""
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def children_map() -> dict[int, list[int]]:
    """Parent pid → child pids: how a browser's or a stack's process tree is found."""
    kids: dict[int, list[int]] = {}
    for p in psutil.process_iter(["ppid"]):
        ppid = p.info["ppid"]
        if ppid is not None:
            kids.setdefault(ppid, []).append(p.pid)
    return kids


def stop_pid(pid: int, expect: str, timeout: float = 10.0) -> bool:
    """Stop the process group led by `pid` if `pid` still runs a command containing `expect`.

    The check guards against a recycled pid: a stack's state file may be days old."""
    if not pid_alive(pid) or not any(expect in part for part in pid_command(pid)):
        return False
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return True
        except PermissionError:
            os.kill(pid, sig)
        if poll_until(lambda: not pid_alive(pid), wait, 0.05):
            return True
    return not pid_alive(pid)


def read_json(path: Path) -> dict[str, object] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
