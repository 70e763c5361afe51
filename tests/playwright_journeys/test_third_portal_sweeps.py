"""Issue #14's "done when" on the third portal fixture, through a real `dvcwatch shop` process with the
fixture's profile alone (no plugin, no --catalog): 25/25 at --parallel 4 with its one account, a fault
at each step found at that step, and no OTP false alarm sweep after sweep.

The portal runs in this process (tests/fixtures/third_portal); `dvcwatch shop` is a child, as an
operator would run it. Faults are scoped to one service each, so one sweep finds them all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures.third_portal import ThirdPortal
from fixtures.third_portal.target import password_env, profile_for

from dvcwatch.core.catalog import load_catalog

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
CATALOG = load_catalog()
SWEEP_DEADLINE = 900  # bounds a broken run only

# one fault per service: the step it must be found at (a downgrade: no failure, a degraded journey)
FAULTS: dict[str, tuple[dict[str, object], str]] = {
    "dang-ky-khai-tu": ({"kind": "error", "step": "login"}, "login"),
    "dang-ky-ket-hon": ({"kind": "error", "step": "otp"}, "otp"),
    "dang-ky-tam-tru": ({"kind": "otp_lost", "step": "otp"}, "otp"),
    "dang-ky-thue-ca-nhan": ({"kind": "error", "step": "find_service"}, "find_service"),
    "cap-dien-moi": ({"kind": "error", "step": "form"}, "form"),
    "thong-bao-luu-tru": ({"kind": "hang", "step": "form"}, "form"),
    "dang-ky-khai-sinh": ({"kind": "error", "step": "upload"}, "upload"),
    "cap-phieu-ly-lich-tu-phap": ({"kind": "error", "step": "payment"}, "payment"),
    "khai-bao-tam-vang": ({"kind": "error", "step": "submit"}, "submit"),
    "doi-chu-the-hop-dong-dien": ({"kind": "error", "step": "tracking"}, "tracking"),
    "lien-thong-khai-tu": ({"kind": "error", "step": "result"}, "result"),
    "cap-ho-chieu": ({"kind": "downgrade", "step": "payment"}, "degraded"),
}
# free services of full level: a quick reduced set for the repeated one-account sweeps
QUICK = ["khai-bao-tam-vang", "thong-bao-luu-tru", "dang-ky-khai-sinh", "cap-dien-moi"]


@pytest.fixture
def portal() -> Iterator[ThirdPortal]:
    with ThirdPortal(result_delay=0.2) as p:
        yield p


def shop(portal: ThirdPortal, tmp_path: Path, out: Path, *extra: str) -> tuple[int, dict, str]:
    """`dvcwatch shop` as a child process with the fixture's profile and nothing else."""
    profile = tmp_path / "third-portal.yaml"
    if not profile.exists():
        profile_for(portal, profile)
    env = {**os.environ, **password_env(portal)}
    argv = [sys.executable, "-m", "dvcwatch", "shop", "--target", str(profile), "--out", str(out)]
    argv += ["--parallel", "4", "--trace", "off", *extra]
    proc = subprocess.run(
        argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=SWEEP_DEADLINE, check=False
    )
    results = json.loads((out / "results.json").read_text()) if (out / "results.json").exists() else {}
    return proc.returncode, results, proc.stdout + proc.stderr


def outcomes(results: dict) -> dict[str, tuple[str, str | None]]:
    return {r["service"]: (r["verdict"], r["failed_step"]) for r in results["results"]}


def test_the_profile_alone_passes_all_25_at_parallel_4_with_one_account(
    portal: ThirdPortal, tmp_path: Path
) -> None:
    code, results, output = shop(portal, tmp_path, tmp_path / "out")
    assert outcomes(results) == {s.id: ("pass", None) for s in CATALOG.services}, output[-3000:]
    assert code == 0, output[-3000:]
    assert not results["partial"]
    counts = portal.counts()
    assert counts["dossiers"] == 25
    assert counts["otp_refused"] == 0  # one account, four at once: nobody typed another's code


def test_a_fault_at_each_step_is_found_at_that_step(portal: ThirdPortal, tmp_path: Path) -> None:
    portal.set_faults([{**fault, "service": sid} for sid, (fault, _) in FAULTS.items()])
    argv = [a for sid in FAULTS for a in ("--service", sid)]
    code, results, output = shop(portal, tmp_path, tmp_path / "out", "--step-timeout", "5", *argv)
    want = {
        sid: ("degraded", None) if step == "degraded" else ("fail", step) for sid, (_, step) in FAULTS.items()
    }
    assert outcomes(results) == want, output[-3000:]
    assert code == 1
    assert all(f["hits"] >= 1 for f in portal.faults())
    by_service = {r["service"]: r for r in results["results"]}
    # the login through the service's button met the service page's fault: find_service's, and the
    # login itself was not reached; the OTP typed fine, then the e-form it led to failed
    steps = {s["name"]: s for s in by_service["dang-ky-thue-ca-nhan"]["steps"]}
    assert steps["login"]["status"] == "not_run" and steps["find_service"]["status"] == "failed"
    steps = {s["name"]: s for s in by_service["cap-dien-moi"]["steps"]}
    assert steps["otp"]["status"] == "passed" and steps["form"]["status"] == "failed"
    assert by_service["cap-ho-chieu"]["level_delivered"] == "partial"


def test_one_account_at_parallel_4_has_no_otp_false_alarm_over_3_sweeps(
    portal: ThirdPortal, tmp_path: Path
) -> None:
    argv = [a for sid in QUICK for a in ("--service", sid)]
    for n in range(3):
        code, results, output = shop(portal, tmp_path, tmp_path / f"out{n}", *argv)
        assert outcomes(results) == {s: ("pass", None) for s in QUICK}, output[-3000:]
        assert code == 0
    counts = portal.counts()
    assert counts["otp_refused"] == 0
    assert counts["logins"] >= 3 * len(QUICK)  # each journey logged in itself (sandbox: no reuse)
