"""How a sandbox is configured: the same options for `python -m sandbox_portal`, `dvcwatch sandbox`
and the in-process `SandboxServer` used by tests and benchmarks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class SandboxOptions:
    host: str = "127.0.0.1"
    port: int = 8480
    db_path: str | Path | None = None
    faults_path: str | Path | None = None
    seed: int = 42
    citizens: int = 200
    clock_speed: float | None = None  # None: the faults file's clock_speed, else 1.0
    backoffice: str | None = None  # fast | real; None: the faults file's backoffice, else fast
    capacity_workers: int | None = None
    service_time: float | None = None
    capacity_queue: int | None = None
    admin_token: str = "t"
