"""`ShopRun` hands every finished sweep and journey to its callbacks (where history rows are written)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dvcwatch.orchestration.shop_runs import ShopRun, SweepRecord
from playwright_journeys.results import ServiceResult

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_each_scheduled_sweep_reaches_after_sweep_with_its_own_folder(
    tmp_path: Path, sandbox: object
) -> None:
    sweeps: list[SweepRecord] = []
    journeys: list[ServiceResult] = []
    outcome = ShopRun(
        out=tmp_path / "runs",
        target=sandbox.url,  # type: ignore[attr-defined]
        services=["thong-bao-luu-tru"],
        every=0.5,
        max_runs=2,
        after_sweep=[sweeps.append],
        after_journey=[journeys.append],
    ).execute()
    assert outcome.stopped_by is None
    assert [s.number for s in sweeps] == [1, 2]
    assert outcome.last is sweeps[-1].results
    assert sweeps[0].out_dir != sweeps[1].out_dir
    assert all((s.out_dir / "results.json").is_file() for s in sweeps)
    assert [(j.service, j.verdict) for j in journeys] == [("thong-bao-luu-tru", "pass")] * 2
    assert [r.verdict for s in sweeps for r in s.results.results] == ["pass", "pass"]
