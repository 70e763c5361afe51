"""Recorded flows from the fourth portal (issue #27 item 8) replayed under a smoke load: the portal sends
its anti-forgery token from the form's hidden `__RequestVerificationToken` in the upload's
`RequestVerificationToken` header, and a token of another session is 400, so a flow that drops the
header, or replays the recorded value, fails every upload. Its error page is told by a selector list
(`div.error-page, .alert-danger:has-text("Lỗi hệ thống")`), which `load` must read.

The journeys are recorded with the decided profile (the partial profile scaffolded, decisions.yaml
merged in, as docs/real-portals.md §11 does), compiled with no hand edit, and replayed on the same
portal.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fixtures.fourth_portal import TOKEN_HEADER, FourthPortal
from fixtures.fourth_portal.target import password_env, profile_for, settle

from dvcwatch.commands.cli import main
from dvcwatch.core.flows import load_flows

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(1200)]

DATA = Path(__file__).with_name("data")
# a portal-only document and no fee; a fee paid on the gateway that returns by a timer; two documents
SERVICES = ("lien-thong-khai-sinh", "cap-phieu-ly-lich-tu-phap", "dang-ky-thuong-tru")


def smoke(run_load: Any, out: Path, host: str, target: str, flows: Path) -> dict[str, Any]:
    code, report = run_load(
        "--profile", str(DATA / "flows-smoke.yaml"), "--host", host, "--target", target,
        "--flows", str(flows), "--out", str(out),
    )  # fmt: skip
    assert report is not None, (code, (out / "locust-master.out").read_text()[-3000:])
    return report


def test_recorded_flows_replay_under_a_smoke_load_through_upload_and_submit(
    tmp_path: Path, run_load: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FourthPortal(result_delay=0.2) as portal:
        for k, v in password_env(portal).items():
            monkeypatch.setenv(k, v)
        # the decided profile, as §11 makes it: scaffold the partial profile, settle its entries
        partial = profile_for(portal, tmp_path / "partial.yaml")
        scaffolded = tmp_path / "scaffolded.yaml"
        only = [a for s in SERVICES for a in ("--service", s)]
        assert main(["profile", "scaffold", str(partial), "--out", str(scaffolded), *only]) in (0, 1)
        target = str(settle(scaffolded, tmp_path / "profile.yaml"))
        rec, flows = tmp_path / "rec", tmp_path / "flows"
        argv = [
            "shop",
            "--target",
            target,
            "--out",
            str(tmp_path / "shop"),
            "--record",
            str(rec),
            "--trace",
            "off",
        ]
        main([*argv, *only])
        results = json.loads((tmp_path / "shop" / "results.json").read_text())
        passed = sorted(r["service"] for r in results["results"] if r["verdict"] == "pass")
        assert passed == sorted(SERVICES), [
            (r["service"], r["verdict"], r["failure"]) for r in results["results"]
        ]
        assert main(["flows", "compile", str(rec), "--out", str(flows), "--target", target]) == 0

        # each upload sends the page's token in the header, taken from an earlier answer at replay
        for sid, flow in load_flows(flows).items():
            uploads = [r for _, r in flow.requests() if r.files]
            assert uploads, f"{sid}: no upload in the flow"
            for r in uploads:
                sent = {k.lower(): v for k, v in r.headers.items()}.get(TOKEN_HEADER.lower(), "")
                assert sent.startswith("${"), f"{sid}: {TOKEN_HEADER} is {sent!r}, not a value read at replay"

        before = portal.counts()
        report = smoke(run_load, tmp_path / "load", portal.url, target, flows)
        after = portal.counts()
        # the error page answered as a success (status 200): told only by the profile's selector list
        portal.set_faults([{"kind": "error", "step": "tracking", "status": 200}])
        broken = smoke(run_load, tmp_path / "broken", portal.url, target, flows)
    assert report["totals"]["error_ratio"] < 0.01, report["errors"]
    rows = [r for r in report["requests"] if not r["harness"]]
    steps = {r["step"] for r in rows if r["requests"] > r["failures"]}
    assert {"login", "otp", "form", "upload", "submit", "payment"} <= steps, steps
    assert sorted(report["flows"]["services"]) == sorted(SERVICES)
    # what the portal holds: files and dossiers the replays sent, none refused as forged
    assert after["uploads"] > before["uploads"] and after["dossiers"] > before["dossiers"], (before, after)
    assert after["payments"] > before["payments"]
    assert after["forgery_refused"] == before["forgery_refused"], (before, after)
    told = [e for e in broken["errors"] if "error page" in e["error"]]
    assert told and broken["totals"]["error_ratio"] > 0, broken["errors"]
