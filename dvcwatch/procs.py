"""Start and stop the Debian monitoring binaries (Prometheus, Alertmanager, Pushgateway, blackbox)
and dvcwatch's own long-running parts (prober, webhook listener, link proxy) on loopback, each with its
own data dir, stopped by its own process id.

Used by `dvcwatch stack`, the demo, benchmarks and the tests, so that "a real Prometheus" always means
the same thing: the packaged binary, started on 127.0.0.1 with a port we chose. A process started here
lives in its own session (process group = its pid), so it can be stopped later, even by another
`dvcwatch` invocation that only knows the pid, without touching anything else.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from dvcwatch.errors import DvcwatchError
from dvcwatch.waiting import poll_until

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


@dataclass
class Managed:
    """A child process in its own session, stopped with its whole group."""

    name: str
    args: list[str]
    ready_url: str
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)

    def start(self, timeout: float = 30.0) -> Managed:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                self.args,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
                **child_kwargs(),  # type: ignore[arg-type]
            )
        try:
            if self.ready_url.startswith("tcp://"):
                host, _, port = self.ready_url[len("tcp://") :].rpartition(":")
                wait_tcp(host, int(port), timeout=timeout, proc=self.proc)
            else:
                wait_http(self.ready_url, timeout=timeout, proc=self.proc)
        except DvcwatchError as exc:
            self.stop()
            tail = self.log_path.read_text(errors="replace")[-800:]
            raise DvcwatchError(f"{self.name} did not start: {exc}\n{tail}") from None
        return self

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def stop(self, timeout: float = 10.0) -> None:
        if not self.proc or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        except ProcessLookupError:
            pass

    def __enter__(self) -> Managed:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def prometheus(
    config: Path, data_dir: Path, port: int | None = None, extra: list[str] | None = None
) -> Managed:
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [
        binary("prometheus"),
        f"--config.file={config}",
        f"--storage.tsdb.path={data_dir / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--web.enable-lifecycle",
        "--web.enable-admin-api",
        *(extra or []),
    ]
    return Managed("prometheus", args, f"http://127.0.0.1:{port}/-/ready", data_dir / "prometheus.log")


def alertmanager(config: Path, data_dir: Path, port: int | None = None) -> Managed:
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [
        binary("alertmanager"),
        f"--config.file={config}",
        f"--storage.path={data_dir / 'am'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",  # no gossip: one Alertmanager on loopback
    ]
    return Managed("alertmanager", args, f"http://127.0.0.1:{port}/-/ready", data_dir / "alertmanager.log")


def pushgateway(data_dir: Path, port: int | None = None) -> Managed:
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    # Debian's binary defaults to a machine-wide /var/lib/prometheus/pushgateway.data: another run's
    # groups would come back here (and fire DvcJourneyRunnerStale for vantages this stack never saw).
    # The file in `data_dir` also lets a restarted Pushgateway keep what was pushed before.
    args = [
        binary("pushgateway"),
        f"--web.listen-address=127.0.0.1:{port}",
        f"--persistence.file={data_dir / 'pushgateway.data'}",
        "--persistence.interval=15s",
    ]
    return Managed("pushgateway", args, f"http://127.0.0.1:{port}/-/ready", data_dir / "pushgateway.log")


def blackbox_exporter(config: Path, data_dir: Path, port: int | None = None) -> Managed:
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [binary("blackbox"), f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}"]
    return Managed("blackbox_exporter", args, f"http://127.0.0.1:{port}/-/healthy", data_dir / "blackbox.log")


def url_of(m: Managed) -> str:
    if m.ready_url.startswith("tcp://"):
        return m.ready_url
    return m.ready_url.rsplit("/-/", 1)[0]


def _python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def prober(config: Path, data_dir: Path, vantage: str, port: int | None = None) -> Managed:
    """`dvcwatch probe --config` (probes/ by another team): one prober, one vantage."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    args = _python_module(
        "dvcwatch", "probe", "--config", str(config), "--vantage", vantage, "--listen", f"127.0.0.1:{port}"
    )
    return Managed(f"prober-{vantage}", args, f"http://127.0.0.1:{port}/-/healthy", data_dir / "prober.log")


def webhook_listener(out: Path, data_dir: Path, port: int | None = None) -> Managed:
    """`dvcwatch alerts listen`: what Alertmanager sends, printed to its log and stored as JSONL."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    args = _python_module("dvcwatch", "alerts", "listen", "--port", str(port), "--out", str(out))
    return Managed("listener", args, f"http://127.0.0.1:{port}/-/ready", data_dir / "listener.log")


def link_proxy(upstream: str, data_dir: Path, name: str, port: int | None = None) -> Managed:
    """A cuttable loopback link (dvcwatch.linkproxy) between one ward's prober and the portal."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    args = _python_module(
        "dvcwatch.linkproxy",
        "--listen",
        f"127.0.0.1:{port}",
        "--upstream",
        upstream,
        "--state-file",
        str(data_dir / "link-state"),
    )
    return Managed(f"link-{name}", args, f"tcp://127.0.0.1:{port}", data_dir / "link.log")


def read_json(path: Path) -> dict[str, object] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
