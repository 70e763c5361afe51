"""`probe --from-catalog PROFILE` on portals that are not the sandbox: the other-portal and third-portal
fixtures, each with its own profile. The generated set passes on a healthy portal (`--once` exits 0), a
fault is found on the probes of the service (or step) it hits and nowhere else, and nothing the
profile does not say is assumed: no sandbox API, no catalog codes."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fixtures.other_portal import OtherPortal
from fixtures.other_portal.target import profile_for as other_profile
from fixtures.third_portal import ThirdPortal
from fixtures.third_portal.target import password_env
from fixtures.third_portal.target import profile_for as third_profile

from dvcwatch.commands.cli import main
from dvcwatch.core.catalog import load_catalog
from probes.config import load_config
from probes.one_round import probe_all
from probes.runner import Result, values

FLOWS = Path(__file__).with_name("data") / "flows"
CATALOG = load_catalog()
HUNG = "dang-ky-khai-sinh"  # a service with a recorded flow on the third portal


@pytest.fixture
def other() -> Iterator[OtherPortal]:
    with OtherPortal() as portal:
        yield portal


@pytest.fixture
def third(monkeypatch: pytest.MonkeyPatch) -> Iterator[ThirdPortal]:
    with ThirdPortal() as portal:
        for k, v in password_env(portal).items():
            monkeypatch.setenv(k, v)
        yield portal


def generate(
    profile: Path, out: Path, flows: Path | None, capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    args = ["probe", "--from-catalog", str(profile), "--out", str(out)]
    assert main([*args, *(["--flows", str(flows)] if flows else [])]) == 0
    capsys.readouterr()
    return yaml.safe_load(out.read_text(encoding="utf-8"))


def untimed(out: Path, flow_timeout: str | None = None) -> None:
    """Correctness, not speed: drop the generated latency budgets (a loaded test machine is slow, not
    the portal broken). `flow_timeout`: a hang costs one timeout per probe, keep the flow's shorter."""
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    for module in data["modules"].values():
        module.pop("latency_budget_seconds", None)
    for t in data["targets"]:
        t.pop("latency_budget_seconds", None)
        if t.get("kind") == "flow" and flow_timeout:
            t["timeout"] = flow_timeout
    out.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def probe_once(config: Path) -> dict[str, Result]:
    results = asyncio.run(probe_all(load_config(config)))
    return {r.target.name: r for r in results}


def failed(results: dict[str, Result]) -> dict[str, Result]:
    return {n: r for n, r in results.items() if not r.success}


def test_other_portal_probes_from_its_profile(
    other: OtherPortal, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = other_profile(other, tmp_path / "profile.yaml")
    out = tmp_path / "probes.yaml"
    assert main(["probe", "--from-catalog", str(profile), "--out", str(out)]) == 0
    warning = capsys.readouterr().err
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    targets = {t["name"]: t for t in data["targets"]}
    # service pages by the profile's codes only; the other 23 are named, not probed under catalog codes
    pages = {t["service"]: t["url"] for t in data["targets"] if t["name"].startswith("page-")}
    assert pages == {
        "khac-dau-moi": f"{other.urls['portal']}/thu-tuc/9.900013",
        "cap-doi-gplx": f"{other.urls['portal']}/thu-tuc/9.900020",
    }
    assert targets["page-cap-doi-gplx"]["must_contain"] == ["9.900020"]
    assert "23 service(s)" in warning and "xac-nhan-so-cmnd" in warning
    assert "#   dang-ky-khai-sinh" in out.read_text(encoding="utf-8")
    # no sandbox API: the profile declares none
    assert not [t for t in data["targets"] if "/api/" in t["url"] or t.get("kind") == "api_flow"]
    assert targets["login"]["url"] == f"{other.urls['portal']}/sso/dang-nhap"
    assert targets["payment-gateway"]["url"] == f"{other.urls['payment']}/thanh-toan"
    # the profile's error page and busy banner judge every page
    assert data["modules"]["page"]["must_not_match"] == ["section.loi-he-thong", "text=Hệ thống đang bận"]

    # with the recorded flow: login → form over SSO on the identity origin, 0 failures on a healthy portal
    data = generate(profile, out, FLOWS / "other_portal", capsys)
    untimed(out)
    flow = next(t for t in data["targets"] if t.get("kind") == "flow")
    assert flow["service"] == "cap-doi-gplx" and not Path(flow["flow"]).is_absolute()
    assert (out.parent / flow["flow"]).resolve() == (
        FLOWS / "other_portal" / "cap-doi-gplx.flow.yaml"
    ).resolve()
    assert flow["origins"] == {"identity": other.urls["identity"], "payment": other.urls["payment"]}
    assert main(["probe", "--config", str(out), "--once"]) == 0
    assert other.counts()["dossiers"] == 0  # the flow's submission is never replayed

    # the identity provider down: the flow fails at login, and only the flow
    other.set_faults(["login_down"])
    results = probe_once(out)
    assert set(failed(results)) == {"flow-cap-doi-gplx"}
    r = results["flow-cap-doi-gplx"]
    assert r.observation.failed_step == "login"
    assert r.observation.failure == "login: error page: section.loi-he-thong"
    assert values(r).failed_step == {"login": 1.0, "otp": 0.0, "find_service": 0.0, "form": 0.0}
    assert main(["probe", "--config", str(out), "--once"]) == 1


def test_third_portal_probes_from_its_profile_find_a_hang_on_its_service(
    third: ThirdPortal, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = third_profile(third, tmp_path / "profile.yaml")
    out = tmp_path / "probes.yaml"
    data = generate(profile, out, FLOWS / "third_portal", capsys)
    pages = {t["service"]: t["url"] for t in data["targets"] if t["name"].startswith("page-")}
    assert len(pages) == len(CATALOG.services) == 25
    assert pages[HUNG] == f"{third.url}/dich-vu-cong/TTHC-333"
    flow = next(t for t in data["targets"] if t.get("kind") == "flow")
    assert flow["credentials"]["account"] == "tai-khoan-thu-nghiem"
    assert flow["otp"]["source"] == "http" and flow["error_selectors"] == ["div.thong-bao-loi, div.qua-tai"]
    assert not [t for t in data["targets"] if "/api/" in t["url"]]
    untimed(out, flow_timeout="20s")
    assert main(["probe", "--config", str(out), "--once"]) == 0

    body = json.dumps({"faults": [{"kind": "hang", "step": "find_service", "service": HUNG}]}).encode()
    req = urllib.request.Request(
        f"{third.url}/__quan-tri/su-co",
        data=body,
        method="PUT",
        headers={"Authorization": f"Bearer {third.admin_token}"},
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 200
    results = probe_once(out)
    bad = failed(results)
    assert set(bad) == {f"page-{HUNG}", f"flow-{HUNG}"}
    assert {r.target.service for r in bad.values()} == {HUNG}
    assert bad[f"page-{HUNG}"].observation.failure.startswith("timeout after")
    assert bad[f"flow-{HUNG}"].observation.failed_step == "find_service"
    assert bad[f"flow-{HUNG}"].observation.failure.startswith("find_service: timeout after")
    assert all(r.success for n, r in results.items() if n not in bad)
