"""Start and stop the Debian monitoring binaries (Prometheus, Alertmanager, Pushgateway, blackbox)
and dvcwatch's own long-running parts (prober, webhook listener, link proxy) on loopback, each with its
own data dir, stopped by its own process id.

Used by `dvcwatch stack`, the demo, benchmarks and the tests, so that "a real Prometheus" always means
the same thing: the packaged binary, started on 127.0.0.1 with a port we chose.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from dvcwatch.core.errors import DvcwatchError
from dvcwatch.core.processes import binary, child_kwargs, free_port, wait_http, wait_tcp


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
    """A cuttable loopback link (dvcwatch.orchestration.link_proxy) between one ward's prober and the portal."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    args = _python_module(
        "dvcwatch.orchestration.link_proxy",
        "--listen",
        f"127.0.0.1:{port}",
        "--upstream",
        upstream,
        "--state-file",
        str(data_dir / "link-state"),
    )
    return Managed(f"link-{name}", args, f"tcp://127.0.0.1:{port}", data_dir / "link.log")
