"""Distributed mode on loopback: a master and two workers, and the counts that must add up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).with_name("data")


pytestmark = pytest.mark.slow


def test_master_and_two_workers_totals_add_up(
    sandbox: Any, tmp_path: Path, run_load: Any, sandbox_admin: Any
) -> None:
    before = sandbox_admin(sandbox, "/_sandbox/stats")
    code, report = run_load(
        "--profile",
        str(DATA / "short-steady.yaml"),
        "--host",
        sandbox.url,
        "--out",
        str(tmp_path / "out"),
        "--workers",
        "2",
    )
    assert report is not None, (tmp_path / "out" / "locust-master.log").read_text()[-2000:]
    assert code == 0, report["broken_gates"]
    workers = report["workers"]
    assert len(workers) == 2 and report["host"]["workers"] == 2
    assert all(w["requests"] > 0 for w in workers), workers
    rows = report["requests"]
    assert (
        sum(w["requests"] for w in workers)
        == sum(r["requests"] for r in rows)
        == report["totals"]["requests"]
    )
    assert (
        sum(w["failures"] for w in workers)
        == sum(r["failures"] for r in rows)
        == report["totals"]["failures"]
    )

    # what the portal recorded matches what the generators counted; users stopped mid-request at
    # the end may have submitted a dossier whose answer never reached them
    after = sandbox_admin(sandbox, "/_sandbox/stats")
    created = after["dossiers"] - before["dossiers"]
    submitted = sum(r["requests"] - r["failures"] for r in rows if r["step"] == "submit")
    assert submitted > 0
    assert submitted <= created <= submitted + 12
    paid = sum(r["requests"] - r["failures"] for r in rows if r["step"] == "payment")
    assert paid <= after["payments_by_status"].get("paid", 0) <= paid + 12
