"""Private scratch folders inside a run's own output folder, never in the system's temporary one.

A browser's trace files and a recording's raw HAR need a folder while a journey runs. Made in /tmp,
a run killed with SIGKILL left them there for good, empty or not, where nobody looks. Made inside the
run's output folder they stay with the run they belong to; each carries its owner's pid, so the next
run that uses the same folder removes those whose owner is dead."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def remove_stale(parent: Path, prefix: str) -> list[Path]:
    """Remove `parent`'s scratch folders named `prefix<pid>-…` whose process is gone; returns them."""
    pattern = re.compile(rf"^{re.escape(prefix)}(\d+)-")
    gone = []
    try:
        children = list(parent.iterdir())
    except OSError:
        return gone
    for child in children:
        m = pattern.match(child.name)
        if m and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))) and child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
            gone.append(child)
    return gone


def private_dir(parent: Path, prefix: str) -> Path:
    """A new folder (mode 0700) in `parent` named `prefix<pid>-…`, after removing dead runs' ones."""
    parent.mkdir(parents=True, exist_ok=True)
    remove_stale(parent, prefix)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent))
