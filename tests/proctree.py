"""What a command left running: the tests for interruption (SIGTERM, SIGKILL) name every process a
command started, by walking /proc from its pid, then wait until each is gone.

Children of dvcwatch live in their own sessions (so they can be stopped by pid as a group), which is
why the parent's process group alone would not show them: the walk records each one's group too."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass

from dvcwatch.core.processes import children_map, pid_alive, pid_command


@dataclass(frozen=True)
class Proc:
    pid: int
    pgid: int
    command: str


def descendants(pid: int) -> list[Proc]:
    """Every live process under `pid` (not `pid` itself), with its process group."""
    kids = children_map()
    out: list[Proc] = []
    todo = list(kids.get(pid, []))
    while todo:
        p = todo.pop()
        todo.extend(kids.get(p, []))
        try:
            pgid = os.getpgid(p)
        except ProcessLookupError:
            continue
        out.append(Proc(p, pgid, " ".join(pid_command(p))[:200]))
    return out


def group_members(pgids: set[int]) -> list[Proc]:
    """Live, non-zombie processes in any of these process groups, as `ps` sees them."""
    ps = subprocess.run(["ps", "-eo", "pid=,pgid=,stat=,args="], capture_output=True, text=True, check=True)
    out = []
    for line in ps.stdout.splitlines():
        pid, pgid, stat, *args = line.split(None, 3)
        if int(pgid) in pgids and not stat.startswith("Z") and int(pid) != os.getpid():
            out.append(Proc(int(pid), int(pgid), " ".join(args)[:200]))
    return out


def wait_gone(procs: list[Proc], timeout: float = 30.0) -> list[Proc]:
    """Wait until none of `procs` (nor anything else in their process groups) is alive; return what
    is still alive at the deadline. The deadline only bounds a broken run: a passing one returns as
    soon as the last process is gone."""
    pgids = {p.pgid for p in procs}
    deadline = time.monotonic() + timeout
    while True:
        left = [p for p in procs if pid_alive(p.pid)]
        left += [p for p in group_members(pgids) if p not in left and pid_alive(p.pid)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)
