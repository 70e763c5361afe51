"""Files other processes read while we write them (Prometheus' file discovery, the stack's state,
results a dashboard or a merge picks up) are replaced whole: written beside, then renamed."""

from __future__ import annotations

import os
from pathlib import Path


def write_text(path: Path, text: str) -> None:
    """Readers see the old file or the new one, never half of one; the temporary name carries the
    pid, so two writers never share it."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
