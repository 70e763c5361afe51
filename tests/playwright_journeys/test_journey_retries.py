"""--retries: a failed journey is run again, a later pass says it was flaky and keeps the first
failure's evidence; a journey that keeps failing stays failed. Attempts are simulated (no browser)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dvcwatch.core.catalog import load_catalog
from dvcwatch.core.profile import load_profile
from playwright_journeys.personas import load_personas
from playwright_journeys.results import Artifacts, ServiceResult
from playwright_journeys.runner import Job, Sweep, SweepConfig, _Attempt


def attempt(verdict: str, number: int) -> ServiceResult:
    return ServiceResult(
        service="cap-ho-chieu", name_vi="x", name_en="x", agency="mps", persona="desktop", verdict=verdict,
        failed_step="payment" if verdict == "fail" else None, level_promised="full", steps=[],
        citizen_index=0, artifacts=Artifacts(screenshot=f"a{number}.png") if verdict == "fail" else Artifacts(),
    )  # fmt: skip


def run_job(
    tmp_path: Path, verdicts: list[str], retries: int, crash_first: bool = False
) -> tuple[ServiceResult, int]:
    catalog = load_catalog()
    cfg = SweepConfig(
        profile=load_profile(), catalog=catalog, services=[catalog.service("cap-ho-chieu")],
        personas=[load_personas().get("desktop")], out_dir=tmp_path, retries=retries,
    )  # fmt: skip
    sweep = Sweep(cfg)
    calls: list[int] = []

    async def fake(job: Job, number: int) -> _Attempt:
        calls.append(number)
        if crash_first and len(calls) == 1:
            return _Attempt(attempt("error", number), crashed=True)
        return _Attempt(attempt(verdicts[number - 1], number))

    sweep._attempt = fake  # type: ignore[method-assign]
    job = Job(0, cfg.services[0], cfg.personas[0])
    return asyncio.run(sweep.run_job(job)), len(calls)


def test_a_pass_after_a_failure_is_reported_flaky_with_the_failure_evidence(tmp_path: Path) -> None:
    res, calls = run_job(tmp_path, ["fail", "pass"], retries=2)
    assert (res.verdict, res.flaky, res.attempts, calls) == ("pass", True, 2, 2)
    assert res.artifacts.screenshot == "a1.png"


def test_without_retries_a_failure_is_final_and_retries_stop_at_the_limit(tmp_path: Path) -> None:
    res, calls = run_job(tmp_path, ["fail", "pass"], retries=0)
    assert (res.verdict, res.flaky, res.attempts, calls) == ("fail", False, 1, 1)
    res, calls = run_job(tmp_path, ["fail", "fail", "fail"], retries=2)
    assert (res.verdict, res.flaky, res.attempts, calls) == ("fail", False, 3, 3)
    assert res.artifacts.screenshot == "a3.png"


@pytest.mark.parametrize("retries", [0, 1])
def test_a_browser_crash_is_rerun_without_using_a_retry(tmp_path: Path, retries: int) -> None:
    res, calls = run_job(tmp_path, ["pass", "pass"], retries=retries, crash_first=True)
    assert (res.verdict, res.flaky, res.attempts, res.harness_restarts, calls) == ("pass", False, 1, 1, 2)
