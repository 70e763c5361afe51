"""The SRE's path with a real recording: `dvcwatch shop --record` (a browser) on the third portal and
on the other-portal fixture, compiled into flows with no hand edits (made once per run and shared,
tests/flows_recorded.py; the probes then run on a portal of the test's own), then `probe --from-catalog PROFILE
--flows DIR`: the flow probe passes on the healthy portal, never goes past the form, and a fault is
found on that service's probes, at its step, and nowhere else."""

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
from probes.config import load_config
from probes.one_round import probe_all

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SERVICE = "dang-ky-khai-sinh"


@pytest.fixture
def third(monkeypatch: pytest.MonkeyPatch) -> Iterator[ThirdPortal]:
    with ThirdPortal() as portal:
        for k, v in password_env(portal).items():
            monkeypatch.setenv(k, v)
        yield portal


def stats(portal: ThirdPortal) -> dict[str, int]:
    req = urllib.request.Request(
        f"{portal.url}/__quan-tri/thong-ke", headers={"Authorization": f"Bearer {portal.admin_token}"}
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.load(resp)


def generate(profile: Path, flows: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """Generate the probes with one recorded journey's flows; no latency budgets (correctness, not
    speed) and a short timeout, since a hang costs one per probe."""
    out = tmp_path / "probes.yaml"
    assert main(["probe", "--from-catalog", str(profile), "--flows", str(flows), "--out", str(out)]) == 0
    capsys.readouterr()
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    for module in data["modules"].values():
        module.pop("latency_budget_seconds", None)
    data["defaults"]["timeout"] = "8s"
    for t in data["targets"]:
        if t.get("kind") == "flow":
            t["timeout"] = "30s"
    out.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return out


def test_a_recorded_flow_probes_login_to_form(
    third: ThirdPortal, tmp_path: Path, capsys: pytest.CaptureFixture[str], recorded_flows: Any
) -> None:
    flows = recorded_flows("third", SERVICE).flows
    out = generate(third_profile(third, tmp_path / "profile.yaml"), flows, tmp_path, capsys)
    before = stats(third)
    assert main(["probe", "--config", str(out), "--once"]) == 0
    after = stats(third)
    assert after["logins"] == before["logins"] + 1  # the flow logged in ...
    assert after["dossiers"] == before["dossiers"] and after["payments"] == before["payments"]  # ... only

    body = json.dumps({"faults": [{"kind": "hang", "step": "find_service", "service": SERVICE}]}).encode()
    req = urllib.request.Request(
        f"{third.url}/__quan-tri/su-co",
        data=body,
        method="PUT",
        headers={"Authorization": f"Bearer {third.admin_token}"},
    )
    urllib.request.urlopen(req, timeout=5).close()
    results = {r.target.name: r for r in asyncio.run(probe_all(load_config(out)))}
    bad = {n: r for n, r in results.items() if not r.success}
    assert set(bad) == {f"page-{SERVICE}", f"flow-{SERVICE}"}, {
        n: r.observation.failure for n, r in bad.items()
    }
    assert bad[f"flow-{SERVICE}"].observation.failed_step == "find_service"


def test_a_flow_recorded_through_single_sign_on_probes_login_to_form(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], recorded_flows: Any
) -> None:
    service = "cap-doi-gplx"  # one of the two services its profile maps
    flows = recorded_flows("other", service).flows
    with OtherPortal() as other:
        out = generate(other_profile(other, tmp_path / "profile.yaml"), flows, tmp_path, capsys)
        flow = next(t for t in load_config(out).targets if t.kind == "flow")
        assert "${origin.identity}" in Path(flow.flow).read_text(encoding="utf-8")
        filed = other.counts()["dossiers"]
        assert main(["probe", "--config", str(out), "--once"]) == 0
        assert other.counts()["dossiers"] == filed

        other.set_faults(["login_down"])
        results = {r.target.name: r for r in asyncio.run(probe_all(load_config(out)))}
    bad = {n: r for n, r in results.items() if not r.success}
    assert set(bad) == {f"flow-{service}"}, {n: r.observation.failure for n, r in bad.items()}
    assert bad[f"flow-{service}"].observation.failed_step == "login"
