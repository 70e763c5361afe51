"""Fixtures for running `dvcwatch load` from tests: the CLI in-process (Locust stays in child
processes, so this process is never patched by gevent) and the sandbox's admin API."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

RunLoad = Callable[..., tuple[int, dict[str, Any] | None]]


@pytest.fixture
def run_load() -> RunLoad:
    """`run_load(*args)` runs `dvcwatch load ARGS` (which must include --out); returns the exit code
    and report.json (None when none was written)."""
    from dvcwatch.cli import main

    def run(*args: str) -> tuple[int, dict[str, Any] | None]:
        argv = ["load", *args]
        code = main(argv)
        report = Path(argv[argv.index("--out") + 1]) / "report.json"
        return code, json.loads(report.read_text()) if report.exists() else None

    return run


@pytest.fixture
def sandbox_admin() -> Callable[[Any, str], Any]:
    """`sandbox_admin(sandbox, "/_sandbox/stats")`: GET an admin endpoint as JSON."""

    def get(sandbox: Any, path: str) -> Any:
        req = urllib.request.Request(
            sandbox.url + path, headers={"Authorization": f"Bearer {sandbox.admin_token}"}
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    return get


@pytest.fixture
def capacity_sandbox(sandbox_factory: Any) -> Any:
    """A sandbox whose back end serves 40 req/s: 6 workers × 0.15 s each."""
    return sandbox_factory(capacity_workers=6, service_time=0.15)
