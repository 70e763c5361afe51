"""What citizens count as failures: a soft-failure banner on a 200 page, and a hung request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).with_name("data")


pytestmark = pytest.mark.slow


def test_soft_failures_and_hangs_fail_their_step_and_end_the_visit(
    sandbox_factory: Any, tmp_path: Path, run_load: Any
) -> None:
    sandbox = sandbox_factory(faults_path=DATA / "soft-failure-and-hang.yaml")
    code, report = run_load(
        "--profile", str(DATA / "faulty-portal.yaml"), "--host", sandbox.url, "--out", str(tmp_path / "out")
    )
    assert report is not None and code == 1
    rows = report["requests"]

    def total(step: str, key: str) -> int:
        return sum(r[key] for r in rows if r["step"] == step)

    pages, failed_pages = total("find_service", "requests"), total("find_service", "failures")
    assert 0.3 * pages < failed_pages < 0.7 * pages
    assert total("login", "requests") <= pages - failed_pages, "a visit ends at its failed step"
    page_errors = [e for e in report["errors"] if e["name"].endswith(":find_service")]
    assert page_errors and all("soft failure" in e["error"] for e in page_errors)

    # the hung submission fails after the profile's 2 s timeout; the run still ends on time
    hung = next(r for r in rows if r["name"] == "thong-bao-luu-tru:submit")
    assert hung["failures"] == hung["requests"] > 0
    assert hung["p50"] == pytest.approx(2.0, abs=0.5)
    assert report["stop_reason"] == "completed"
    # ...and ends on time: the shape ran to its end, neither the duration cap nor a stop cut it short
    assert report["partial"] is False
