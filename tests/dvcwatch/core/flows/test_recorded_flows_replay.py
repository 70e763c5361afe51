"""Record the shopper once, compile, replay as someone else (issue 16), on the three portals.

Each test takes one fee-charging service recorded with `dvcwatch shop --record` (a real browser) on a
portal of that kind and compiled with `dvcwatch flows compile` (no hand edits), shared with the other
tests of the run (tests/flows_recorded.py), and replays the flow on a portal of its own with the sans-IO `Replay` driven by
a plain urllib client, as a different citizen: it must reach submit and payment, and the portal must
hold the new citizen's dossier. Neither the recording nor the flow files may hold the password or OTP.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest
from fixtures.other_portal import OtherPortal
from fixtures.other_portal.target import profile_for as other_profile
from fixtures.third_portal import ThirdPortal
from fixtures.third_portal.target import password_env
from fixtures.third_portal.target import profile_for as third_profile
from flows_recorded import Recorded
from replay_client import run

from dvcwatch.core.credentials import Secret
from dvcwatch.core.flows import Replay, load_flows
from dvcwatch.core.flows.replay import bindings_for
from dvcwatch.core.identities import citizen
from dvcwatch.core.profile import load_profile

pytestmark = pytest.mark.browser
SERVICE = "dang-ky-thuong-tru"  # a fee, documents, a form: every step class


def assert_no_secret(recorded: Recorded, password: str, otp: str | None) -> None:
    """Neither the recording nor the flows hold the password (in any spelling) or the OTP typed (when
    the portal still shows it; the sandbox forgets a code once used); both are references instead."""
    spellings = {password, urllib.parse.quote(password, safe=""), urllib.parse.quote_plus(password)}
    token = re.compile(rf"(?<![0-9A-Za-z]){re.escape(otp or '')}(?![0-9A-Za-z])")
    checked = 0
    for path in [*recorded.rec.rglob("*"), *recorded.flows.rglob("*")]:
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert not any(s in text for s in spellings), f"the password is in {path}"
            if otp and path.suffix == ".yaml":
                assert not token.search(text), f"the OTP {otp} is in {path}"
            checked += 1
    har = (recorded.rec / SERVICE / "recording.har").read_text(encoding="utf-8")
    assert "${secret.password}" in har and "${otp}" in har
    flow = (recorded.flows / f"{SERVICE}.flow.yaml").read_text(encoding="utf-8")
    assert "${secret.password}" in flow and "${otp}" in flow
    assert checked >= 5


def replay(flows: Path, bindings, profile):  # type: ignore[no-untyped-def]
    flow = load_flows(flows)[SERVICE]
    errors = [profile.selectors.error_page, profile.selectors.error_banner]
    outcome = run(Replay(flow, bindings, error_selectors=errors))
    assert outcome.failure is None, (outcome.failure, outcome.failed)
    assert {"login", "otp", "form", "upload", "submit", "payment"} <= set(outcome.steps)
    return flow, outcome


def test_sandbox_flow_replays_as_another_citizen(sandbox, recorded_flows) -> None:  # type: ignore[no-untyped-def]
    recording = recorded_flows("sandbox", SERVICE)
    flows = recording.flows
    recorded = json.loads((recording.rec / SERVICE / "steps.json").read_text(encoding="utf-8"))
    first = citizen(42, recorded["citizen"]["index"])
    assert_no_secret(recording, first.password, None)

    other = citizen(42, 11)
    assert other.cccd != first.cccd

    def otp() -> str:
        with urllib.request.urlopen(f"{sandbox.url}/_sandbox/otp?cccd={other.cccd}", timeout=10) as r:
            return json.load(r)["otp"]

    profile = load_profile(sandbox.url)
    before = _sandbox_stats(sandbox)
    flow, _ = replay(flows, bindings_for(profile, other, password=Secret(other.password), otp=otp), profile)
    after = _sandbox_stats(sandbox)
    # a portal of its own, so it may hold no dossier of this service yet
    assert after["dossiers_by_service"][SERVICE] == before["dossiers_by_service"].get(SERVICE, 0) + 1
    assert sum(after["payments_by_status"].values()) == sum(before["payments_by_status"].values()) + 1
    assert {"citizen.cccd", "citizen.full_name"} <= set(flow.params)


def _sandbox_stats(sandbox) -> dict:  # type: ignore[no-untyped-def]
    req = urllib.request.Request(
        f"{sandbox.url}/_sandbox/stats", headers={"Authorization": f"Bearer {sandbox.admin_token}"}
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def test_other_portal_flow_replays_across_three_origins(tmp_path: Path, recorded_flows) -> None:  # type: ignore[no-untyped-def]
    recording = recorded_flows("other", SERVICE)
    with OtherPortal(citizens_count=20) as portal:
        target = str(other_profile(portal, tmp_path / "p.yaml"))
        flows = recording.flows
        recorded = json.loads((recording.rec / SERVICE / "steps.json").read_text(encoding="utf-8"))
        first = next(c for c in portal.citizens if c.cccd == recorded["citizen"]["cccd"])
        assert_no_secret(recording, first.password, None)  # this portal forgets a code once used
        flow_text = (flows / f"{SERVICE}.flow.yaml").read_text(encoding="utf-8")
        assert "${origin.identity}" in flow_text or "${origin.payment}" in flow_text

        other = portal.citizens[7]
        profile = load_profile(target)
        bindings = bindings_for(
            profile, other, password=Secret(other.password), otp=lambda: portal.otp(other.cccd)
        )
        before = portal.counts()
        replay(flows, bindings, profile)
        after = portal.counts()
        assert after == {"dossiers": before["dossiers"] + 1, "payments": before["payments"] + 1}
        assert any(d.cccd == other.cccd for d in portal.store.dossiers.values())


def test_third_portal_flow_replays_with_another_citizens_details(
    tmp_path: Path, monkeypatch, recorded_flows
) -> None:  # type: ignore[no-untyped-def]
    recording = recorded_flows("third", SERVICE)
    with ThirdPortal(result_delay=0.2) as portal:
        for k, v in password_env(portal).items():
            monkeypatch.setenv(k, v)
        target = str(third_profile(portal, tmp_path / "p.yaml"))
        flows = recording.flows
        code = recording.otp  # what the recording's portal showed after the recording
        assert code, "the portal shows the OTP it sent, so the flows can be searched for it"
        assert_no_secret(recording, portal.account.password, code)

        other = citizen(42, 5)
        profile = load_profile(target)
        bindings = bindings_for(
            profile,
            other,
            username=portal.account.cccd,
            password=Secret(portal.account.password),
            otp=portal.otp,
        )
        before = portal.counts()
        replay(flows, bindings, profile)
        after = portal.counts()
        assert after["dossiers"] == before["dossiers"] + 1 and after["payments"] == before["payments"] + 1
        newest = list(portal.store.dossiers.values())[-1]
        assert {other.phone, other.email} <= set(newest.values.values())  # what this form asks of the citizen
