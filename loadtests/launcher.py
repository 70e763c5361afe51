"""Start the Locust processes of one run (a local one, or a master and its workers) and stop them.

Locust runs on gevent, which patches the interpreter it lives in; `dvcwatch load` therefore keeps
it in child processes, each in its own session (a Ctrl-C or SIGTERM reaches only `dvcwatch`, which then
passes it on to the master alone, so the master stops its workers and still writes the partial report).
Each child also dies with `dvcwatch` (PR_SET_PDEATHSIG), so even SIGKILL leaves no load running. Every
wait is bounded: a master that does not finish within the run's duration cap plus a grace period is
stopped (SIGINT, so it still writes its report), and workers are stopped once the master has gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dvcwatch.core.processes import child_kwargs
from dvcwatch.core.waiting import poll_until

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
ROOT = LOCUSTFILE.parent.parent
# Time beyond the duration cap for workers to connect, users to stop and the report to be written.
GRACE_SECONDS = 90.0


@dataclass
class Plan:
    host: str | None
    profile: Path
    out_dir: Path
    max_users: int
    max_duration: float
    gates: str | None = None
    target: str | None = None
    workers: int = 0
    remote_workers: int = 0
    master_host: str | None = None
    master_bind: str = "127.0.0.1"
    master_port: int = 5557
    metrics_port: int = 0
    metrics_host: str = "127.0.0.1"
    allowlist: str | None = None
    authorised: bool = False
    flows: str | None = None  # the master's; workers ask it for the files (they may be elsewhere)
    locustfile: Path = LOCUSTFILE

    @property
    def distributed(self) -> bool:
        return self.workers + self.remote_workers > 0

    @property
    def worker_only(self) -> bool:
        return self.master_host is not None

    def _common(self) -> list[str]:
        args = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(self.locustfile),
            "--dvc-profile",
            str(self.profile),
        ]
        if self.gates:
            args += ["--dvc-gates", self.gates]
        if self.target:
            args += ["--dvc-target", self.target]
        if self.host:
            args += ["--host", self.host]
        if self.allowlist:
            args += ["--dvc-allowlist", self.allowlist]
        if self.authorised:
            args.append("--dvc-i-have-authorisation")
        args += ["--dvc-workers", str(self.workers + self.remote_workers)]
        return args

    def master_command(self) -> list[str]:
        args = [
            *self._common(),
            "--headless",
            "--dvc-out",
            str(self.out_dir),
            "--dvc-max-users",
            str(self.max_users),
            "--dvc-max-duration",
            str(self.max_duration),
            "--dvc-metrics-port",
            str(self.metrics_port),
            "--dvc-metrics-host",
            self.metrics_host,
            "--logfile",
            str(self.out_dir / "locust-master.log"),
            "--loglevel",
            "INFO",
        ]
        if self.flows:
            args += ["--dvc-flows", self.flows]
        if self.distributed:
            args += [
                "--master",
                "--master-bind-host",
                self.master_bind,
                "--master-bind-port",
                str(self.master_port),
                "--expect-workers",
                str(self.workers + self.remote_workers),
                "--expect-workers-max-wait",
                "60",
            ]
        return args

    def worker_command(self, index: int) -> list[str]:
        return [
            *self._common(),
            "--worker",
            "--master-host",
            self.master_host or "127.0.0.1",
            "--master-port",
            str(self.master_port),
            "--logfile",
            str(self.out_dir / f"locust-worker-{index}.log"),
            "--loglevel",
            "INFO",
        ]


@dataclass
class LocustRun:
    plan: Plan
    master: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    interrupted: bool = False

    def start(self) -> LocustRun:
        self.plan.out_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if not self.plan.worker_only:
            self.master = self._spawn(self.plan.master_command(), "locust-master.out", env)
        count = self.plan.workers if self.plan.workers else (1 if self.plan.worker_only else 0)
        for i in range(count):
            self.workers.append(self._spawn(self.plan.worker_command(i), f"locust-worker-{i}.out", env))
        return self

    def _spawn(self, cmd: list[str], out_name: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        out = open(self.plan.out_dir / out_name, "ab")  # noqa: SIM115 - the child owns it
        try:
            return subprocess.Popen(
                cmd,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                **child_kwargs(),  # type: ignore[arg-type]
            )
        finally:
            out.close()

    @property
    def deadline_seconds(self) -> float:
        return self.plan.max_duration + GRACE_SECONDS

    def wait(self, on_tick: Callable[[float], None] | None = None) -> int:
        """Wait for the master (or, worker-only, the workers); bounded by the duration cap."""
        started = time.monotonic()
        watched = [self.master] if self.master else self.workers
        while any(p.poll() is None for p in watched):
            elapsed = time.monotonic() - started
            if on_tick:
                on_tick(elapsed)
            if elapsed > self.deadline_seconds:
                self.stop()
                break
            time.sleep(0.25)
        code = watched[0].poll() if watched else 0
        self._stop_workers()
        return code if code is not None else 2

    def interrupt(self, sig: int = signal.SIGINT, timeout: float = 30.0) -> int | None:
        """A stop signal reached `dvcwatch load`: pass the same signal to the master (it stops the
        users on every worker, writes the partial report naming the signal and exits), then stop
        the workers."""
        self.interrupted = True
        self.stop(timeout, first=sig)
        target = self.master or (self.workers[0] if self.workers else None)
        return target.poll() if target else None

    def stop(self, timeout: float = 30.0, first: int = signal.SIGINT) -> None:
        """SIGINT (or the signal `dvcwatch load` received) first: the run's hooks turn it into a
        clean stop (quitting events, our report); then SIGKILL if the master does not finish."""
        if self.master and self.master.poll() is None:
            for sig, wait in ((first, timeout), (signal.SIGKILL, 5.0)):
                _signal(self.master, sig)
                try:
                    self.master.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        elif self.master is None:  # workers for a master elsewhere: nobody else will tell them
            for w in self.workers:
                if w.poll() is None:
                    _signal(w, first)
        self._stop_workers()

    def _stop_workers(self, grace: float = 3.0) -> None:
        """Once the master has gone, no worker may go on loading the portal. A master that exits
        normally has already told its workers to quit, so they get a short grace to send their last
        counts; one that died (killed, crashed) told them nothing, so they are stopped at once."""
        master_died = self.master is not None and (self.master.returncode or 0) < 0
        poll_until(lambda: all(w.poll() is not None for w in self.workers), 0 if master_died else grace, 0.05)
        for w in self.workers:
            if w.poll() is None:
                _signal(w, signal.SIGTERM)
        for w in self.workers:
            try:
                w.wait(timeout=5)
            except subprocess.TimeoutExpired:
                _signal(w, signal.SIGKILL)
                w.wait(timeout=5)


def _signal(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
