"""The run always finishes: a chromium killed mid-sweep is replaced and its journeys run again."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from dvcwatch.core.catalog import load_catalog
from dvcwatch.core.processes import children_map
from dvcwatch.core.profile import load_profile
from dvcwatch.orchestration.sandbox_process import EmbeddedSandbox
from playwright_journeys.personas import load_personas
from playwright_journeys.runner import Job, SweepConfig, run_sweep

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SERVICES = ["xac-nhan-so-cmnd", "khai-bao-tam-vang", "thong-bao-luu-tru", "doi-chu-the-hop-dong-dien"]


def _children() -> dict[int, list[int]]:
    return children_map()


def _cmd(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def our_chromium_browsers() -> list[int]:
    """Main chromium processes started by this test process (not other tests' browsers)."""
    kids, found, todo = _children(), [], [os.getpid()]
    while todo:
        pid = todo.pop()
        for child in kids.get(pid, []):
            if "chromium" in _cmd(child) and "chromium" not in _cmd(pid):
                found.append(child)
            todo.append(child)
    return found


def test_a_killed_browser_is_replaced_and_every_service_still_gets_its_answer(tmp_path: Path) -> None:
    catalog = load_catalog()
    killed: list[int] = []

    def kill_on_third(job: Job) -> None:
        if job.index == 2 and not killed:
            for pid in our_chromium_browsers():
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

    with EmbeddedSandbox() as sandbox:
        assert sandbox.url
        cfg = SweepConfig(
            profile=load_profile(sandbox.url),
            catalog=catalog,
            services=[catalog.service(s) for s in SERVICES],
            personas=[load_personas().get("desktop")],
            out_dir=tmp_path,
            parallel=2,
            on_start=kill_on_third,
        )
        run = run_sweep(cfg)
    assert killed, "the test did not find its chromium to kill"
    assert [r.service for r in run.results] == SERVICES
    assert {r.verdict for r in run.results} == {"pass"}, [
        (r.service, r.verdict, r.failure) for r in run.results
    ]
    assert sum(r.harness_restarts for r in run.results) >= 1
