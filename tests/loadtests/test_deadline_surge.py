"""The deadline surge against a sandbox whose exam-registration back end is congested."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from loadtests.shapes.deadline_surge import service_share

pytestmark = pytest.mark.slow

SURGING = "dang-ky-thi-thpt"

DATA = Path(__file__).with_name("data")


def test_the_surge_overwhelms_the_exam_service_and_the_report_shows_it(
    sandbox_factory: Any, tmp_path: Path, run_load: Any
) -> None:
    sandbox = sandbox_factory(faults_path=DATA / "exam-congestion.yaml")
    code, report = run_load(
        "--profile", str(DATA / "exam-deadline.yaml"), "--host", sandbox.url, "--out", str(tmp_path / "out")
    )
    assert report is not None
    assert code == 1
    assert "errors.ratio" in report["broken_gates"]

    before, surge, after = report["stages"]
    assert surge["surge"] and SURGING in surge["label"]
    assert surge["failures"] > 0 and not surge["within_slo"]
    assert before["failures"] == 0
    assert after["error_ratio"] < surge["error_ratio"], "the service recovers once the deadline passed"

    def failures(pred: Any) -> int:
        return sum(r["failures"] for r in report["requests"] if pred(r["service"]))

    assert failures(lambda s: s == SURGING) > 0
    assert failures(lambda s: s not in (SURGING, "_harness")) == 0
    surging_requests = sum(r["requests"] for r in report["requests"] if r["service"] == SURGING)
    # a third of the run at 30x the share (visits cut short by 503s make fewer requests): well above 2.5x
    assert surging_requests > 2.5 * service_share(SURGING) * report["totals"]["requests"]

    html = (tmp_path / "out" / "report.html").read_text()
    assert f"deadline: {SURGING}" in html
    assert "GATES BROKEN" in html and "errors.ratio" in html
