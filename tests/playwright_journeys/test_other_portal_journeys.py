"""Profile v2's done-when: a portal that differs from the sandbox in every way (SSO on another origin,
six OTP boxes, a script-rendered list, one long form found by labels, uploads on choose, a modal,
payment on a third origin after submission, procedure codes) is driven end to end by `dvcwatch shop`
with nothing but its profile; a fault switched on there is reported at its own step."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures.other_portal import FAULTS, OtherPortal
from fixtures.other_portal.target import profile_for

from dvcwatch.commands.cli import main

pytestmark = pytest.mark.browser

SERVICES = [
    "dang-ky-thuong-tru",
    "khai-bao-tam-vang",
    "cap-doi-gplx",
]  # fee, no fee, code only in the profile
NUMBER = re.compile(r"^000\.00\.12\.H62-\d{6}-\d{4}$")


@pytest.fixture
def portal() -> Iterator[OtherPortal]:
    with OtherPortal(citizens_count=20) as p:
        yield p


def shop(profile: Path, out: Path, services: list[str]) -> tuple[int, dict[str, dict[str, Any]]]:
    argv = ["shop", "--target", str(profile), "--out", str(out), "--parallel", "2"]
    for s in services:
        argv += ["--service", s]
    code = main(argv)
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return code, {r["service"]: r for r in data["results"]}


def test_several_services_pass_end_to_end_with_only_a_profile(portal: OtherPortal, tmp_path: Path) -> None:
    code, results = shop(profile_for(portal, tmp_path / "p.yaml"), tmp_path / "out", SERVICES)
    failures = {s: (r["failed_step"], r["failure"]) for s, r in results.items() if r["verdict"] != "pass"}
    assert failures == {}
    assert code == 0
    for service, r in results.items():
        steps = {s["name"]: s for s in r["steps"]}
        names = [s["name"] for s in r["steps"]]
        fee = service != "khai-bao-tam-vang"
        expected = ["login", "otp", "find_service", "form", "upload", "submit"]
        expected += ["payment"] if fee else []
        assert names == [*expected, "tracking", "result"], "payment comes after submit on this portal"
        assert all(steps[n]["status"] == "passed" for n in [*expected, "tracking"]), r["steps"]
        assert steps["result"]["status"] == "skipped"
        assert NUMBER.match(r["dossier_code"]), r["dossier_code"]
        assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", r["expected_date"])
        assert r["level_advertised"] == r["level_promised"]
        if fee:
            assert r["fee_charged"] == r["fee_promised"] > 0
        assert "Đã tiếp nhận" in steps["tracking"]["detail"]
    assert portal.counts() == {"dossiers": 3, "payments": 2}


@pytest.mark.parametrize("fault", ["upload_error", "payment_error"])
def test_a_fault_in_the_fixture_is_reported_at_its_step(
    portal: OtherPortal, tmp_path: Path, fault: str
) -> None:
    portal.set_faults([fault])
    code, results = shop(profile_for(portal, tmp_path / "p.yaml"), tmp_path / "out", ["dang-ky-thuong-tru"])
    r = results["dang-ky-thuong-tru"]
    assert code == 1
    assert (r["verdict"], r["failed_step"]) == ("fail", FAULTS[fault])
    assert r["artifacts"]["screenshot"] and (tmp_path / "out" / r["artifacts"]["screenshot"]).is_file()
    after = [s["status"] for s in r["steps"][[s["name"] for s in r["steps"]].index(FAULTS[fault]) + 1 :]]
    assert set(after) == {"not_run"}
