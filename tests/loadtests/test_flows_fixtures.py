"""Recorded flows replayed at load on portals built unlike the sandbox (issue 16): the other-portal
fixture (three origins, SSO, payment after submission) and the third portal (one account, SMS OTP).
Each test takes one fee-charging service recorded with `dvcwatch shop --record` and compiled with
`dvcwatch flows compile` (no hand edits), shared with the other tests of the run (tests/flows_recorded.py),
and runs a short load from it on a portal of its own: under 1 % errors, every step class; then
a stepped ramp from the same flow finds an injected capacity limit as the knee."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fixtures.other_portal import OtherPortal
from fixtures.other_portal.target import profile_for as other_profile
from fixtures.third_portal import ThirdPortal
from fixtures.third_portal.target import password_env
from fixtures.third_portal.target import profile_for as third_profile

from dvcwatch.core.flows import load_flows

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DATA = Path(__file__).with_name("data")
SERVICE = "dang-ky-thuong-tru"  # a fee, documents, a form: every step class


def smoke(run_load: Any, tmp_path: Path, host: str, target: str, flows: Path) -> dict[str, Any]:
    out = tmp_path / "load"
    code, report = run_load(
        "--profile", str(DATA / "flows-smoke.yaml"), "--host", host, "--target", target,
        "--flows", str(flows), "--out", str(out),
    )  # fmt: skip
    assert report is not None, (code, (out / "locust-master.out").read_text()[-3000:])
    portal_rows = [r for r in report["requests"] if not r["harness"]]
    assert report["totals"]["error_ratio"] < 0.01, report["errors"]
    steps = {r["step"] for r in portal_rows if r["requests"] > r["failures"]}
    assert {"login", "otp", "form", "upload", "submit", "payment"} <= steps, steps
    classes = {g["name"].split(".")[1] for g in report["gates"] if g["name"].startswith("latency.")}
    assert classes == {"browse", "auth", "write"}
    assert all(g["measured"] is not None for g in report["gates"] if g["name"].startswith("latency."))
    return report


def test_other_portal_smoke_load_from_recorded_flows(
    tmp_path: Path, run_load: Any, recorded_flows: Any
) -> None:
    flows = recorded_flows("other", SERVICE).flows
    with OtherPortal(citizens_count=20) as portal:
        target = str(other_profile(portal, tmp_path / "p.yaml"))
        before = portal.counts()
        report = smoke(run_load, tmp_path, portal.urls["portal"], target, flows)
        after = portal.counts()
        # what the portal holds: dossiers submitted and paid by the replays, not only answers counted
        assert after["dossiers"] > before["dossiers"] and after["payments"] > before["payments"], (
            before,
            after,
        )
        assert report["flows"]["services"] == [SERVICE]

        # an injected capacity limit on the three origins: 3 requests at a time, 0.1 s each (30 req/s)
        portal.set_capacity(3, 0.1)
        ramp = knee_ramp(run_load, tmp_path, portal.urls["portal"], target, flows)
    assert_knee(ramp, flows)


def test_third_portal_smoke_load_from_recorded_flows(
    tmp_path: Path, run_load: Any, monkeypatch: pytest.MonkeyPatch, recorded_flows: Any
) -> None:
    flows = recorded_flows("third", SERVICE).flows
    with ThirdPortal(result_delay=0.2) as portal:
        for k, v in password_env(portal).items():
            monkeypatch.setenv(k, v)
        target = str(third_profile(portal, tmp_path / "p.yaml"))
        before = portal.counts()
        report = smoke(run_load, tmp_path, portal.url, target, flows)
        after = portal.counts()
        assert after["dossiers"] > before["dossiers"] and after["payments"] > before["payments"], (
            before,
            after,
        )
        assert report["flows"]["services"] == [SERVICE]

        # an injected capacity limit: 3 requests at a time, 0.1 s each (30 req/s), the busy page beyond
        portal.set_faults([{"kind": "capacity", "limit": 3, "seconds": 0.1}])
        ramp = knee_ramp(run_load, tmp_path, portal.url, target, flows)
    assert_knee(ramp, flows)


def knee_ramp(run_load: Any, tmp_path: Path, host: str, target: str, flows: Path) -> dict[str, Any]:
    out = tmp_path / "ramp"
    code, ramp = run_load(
        "--profile", str(DATA / "knee-ramp.yaml"), "--host", host, "--target", target,
        "--flows", str(flows), "--out", str(out),
    )  # fmt: skip
    assert ramp is not None, (code, (out / "locust-master.out").read_text()[-3000:])
    return ramp


def assert_knee(ramp: dict[str, Any], flows: Path) -> None:
    """Capacity 30 req/s across the portal's origins, refused (not queued) beyond it, so the plateau may
    sit below it. The OTP reads (a test endpoint outside the limit) add to it: at most one for every
    request a visit makes before its code is read, more when visits end early at the limit."""
    seen = [(s["users_measured"], s["successes_per_second"], s["error_ratio"]) for s in ramp["stages"]]
    assert ramp["knee"]["found"], (ramp["knee"], seen)
    (flow,) = load_flows(flows).values()
    before_otp = next(k for k, (_, req) in enumerate(flow.requests()) if "${otp}" in req.model_dump_json())
    ceiling = 30 * (1 + 1 / before_otp) * 1.05  # 5 %: the stages' windows do not fall on request edges
    assert 15 <= ramp["knee"]["requests_per_second"] <= ceiling, (ramp["knee"], round(ceiling, 1), seen)
    busy = [e for e in ramp["errors"] if "error page" in e["error"] or "busy banner" in e["error"]]
    assert busy, ramp["errors"]  # refused with the portal's own page, told by the profile's selector
