"""Two sweeps of the same services on the same portal, started together (issue 31.3): every journey
of both is in the shared history, and no citizen is played by both, so no OTP is taken by the other."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dvcwatch.core.history_store import HistoryStore

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SERVICES = ["xac-nhan-so-cmnd", "khai-bao-tam-vang", "thong-bao-luu-tru"]


def test_two_sweeps_started_together_keep_every_journey_and_play_different_citizens(
    sandbox_factory: Callable[..., Any], tmp_path: Path
) -> None:
    sandbox = sandbox_factory()
    env = {k: v for k, v in os.environ.items() if k != "DVCWATCH_HISTORY"}  # the history beside --out
    procs = []
    for name in ("a", "b"):
        argv = [
            sys.executable,
            "-m",
            "dvcwatch",
            "shop",
            "--target",
            sandbox.url,
            "--out",
            str(tmp_path / name),
        ]
        argv += ["--parallel", "3"]
        for s in SERVICES:
            argv += ["--service", s]
        procs.append(
            subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        )
    errs = [p.communicate(timeout=400)[1] for p in procs]
    runs = [json.loads((tmp_path / n / "results.json").read_text(encoding="utf-8")) for n in ("a", "b")]
    assert [p.returncode for p in procs] == [0, 0], errs
    played = [{r["citizen_index"] for r in run["results"]} for run in runs]
    assert played[0].isdisjoint(played[1]), played
    with HistoryStore.open(tmp_path / "history.sqlite3", readonly=True) as store:
        rows = store.journeys()
    assert len(rows) == 2 * len(SERVICES), [(r.at, r.service) for r in rows]
    assert len({r.journey_id for r in rows}) == len(rows)
