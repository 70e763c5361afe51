"""Run the sandbox portal as a separate process, the way the harness meets any portal: over HTTP.

Harness code never imports `sandbox_portal` (a real portal must work by configuration alone), so
`dvcwatch shop`, `probe`, `load`, `stack` and `demo` start the embedded sandbox with
`python -m sandbox_portal ... --ready-file F` and wait for F to hold `{"url": ..., "pid": ...}`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType

from dvcwatch.core.errors import DvcwatchError
from dvcwatch.core.processes import child_kwargs
from dvcwatch.core.waiting import poll_until


class SandboxStartError(DvcwatchError):
    pass


class EmbeddedSandbox:
    """A sandbox portal in a child process; a context manager that always stops it."""

    def __init__(
        self,
        *,
        faults: str | Path | None = None,
        db: str | Path | None = None,
        seed: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        extra_args: list[str] | None = None,
        log_path: str | Path | None = None,
        token: str | None = None,
    ) -> None:
        self.faults = faults
        self.db = db
        self.seed = seed
        self.host = host
        self.port = port
        self.extra_args = extra_args or []
        self.log_path = Path(log_path) if log_path else None
        self.token = token or os.environ.get("DVCWATCH_SANDBOX_TOKEN") or secrets.token_urlsafe(24)
        self.url: str | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self._tmp: Path | None = None

    def command(self, ready_file: Path) -> list[str]:
        cmd = [sys.executable, "-m", "sandbox_portal", "--host", self.host, "--port", str(self.port)]
        # the portal removes its own temporary folder when it exits, so a parent killed by SIGKILL
        # (the portal then gets SIGTERM from the kernel) leaves no /tmp/dvcwatch-sandbox-* behind
        cmd += ["--ready-file", str(ready_file), "--owned-dir", str(ready_file.parent)]
        if self.faults:
            cmd += ["--faults", str(self.faults)]
        # without a db of its own the portal keeps its SQLite file in the folder it removes at exit
        cmd += ["--db", str(self.db or ready_file.parent / "sandbox.sqlite3")]
        if self.seed is not None:
            cmd += ["--seed", str(self.seed)]
        return cmd + list(self.extra_args)

    def start(self, timeout: float = 60.0) -> EmbeddedSandbox:
        self._tmp = Path(tempfile.mkdtemp(prefix="dvcwatch-sandbox-"))
        ready = self._tmp / "ready.json"
        env = {**os.environ, "DVCWATCH_SANDBOX_TOKEN": self.token}
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(
                self.command(ready),
                env=env,
                stdout=log,
                stderr=log,
                **child_kwargs(),  # type: ignore[arg-type]
            )
        finally:
            if log is not subprocess.DEVNULL:
                log.close()  # the child holds its own copy
        info = poll_until(lambda: self._ready_info(ready), timeout, 0.05)
        if not info:
            self.stop()
            raise SandboxStartError(f"the sandbox portal did not become ready within {timeout:g} s")
        self.url = info["url"].rstrip("/")
        return self

    def _ready_info(self, ready: Path) -> dict[str, str] | None:
        """What the portal wrote to its ready file, once it is whole; raises if the portal exited."""
        assert self.proc is not None
        if self.proc.poll() is not None:
            where = f"; see {self.log_path}" if self.log_path else ""
            code = self.proc.returncode
            self.stop()  # removes the temp dir
            raise SandboxStartError(f"the sandbox portal exited with code {code}{where}")
        try:
            return json.loads(ready.read_text())
        except (FileNotFoundError, json.JSONDecodeError):  # not written yet, or half written
            return None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=5)
        self.proc = None
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)  # usually gone already: the portal removes it
            self._tmp = None

    def __enter__(self) -> EmbeddedSandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
