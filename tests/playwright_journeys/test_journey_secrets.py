"""Passwords and OTPs never reach anything a run leaves behind: a staging run against the fixture portal
with a test account whose password comes from the environment, failing late so that a screenshot and
a trace are kept, is searched file by file (traces unzipped) for the password and every OTP sent."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures.other_portal import OtherPortal
from fixtures.other_portal.target import profile_for

from dvcwatch.commands.cli import main

pytestmark = pytest.mark.browser


@pytest.fixture
def portal() -> Iterator[OtherPortal]:
    with OtherPortal(citizens_count=20) as p:
        yield p


def every_artifact(out: Path) -> dict[str, bytes]:
    """Each file under `out`, and each entry of each zip as its own 'file'."""
    found: dict[str, bytes] = {}
    for path in out.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        found[str(path)] = data
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                for name in z.namelist():
                    found[f"{path}!{name}"] = z.read(name)
    return found


def test_no_password_or_otp_in_any_artifact(
    portal: OtherPortal,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tester = portal.citizens[5]
    sent: list[str] = []
    issue = portal.store.new_otp

    def record(cccd: str) -> str:
        sent.append(issue(cccd))
        return sent[-1]

    monkeypatch.setattr(portal.store, "new_otp", record)
    monkeypatch.setenv("DVC_FIXTURE_PASSWORD", tester.password)
    account = (
        "environment: staging\n"
        "accounts:\n"
        f'  - {{name: can-bo-thu-nghiem, username: "{tester.cccd}", password: {{env: DVC_FIXTURE_PASSWORD}}}}\n'
        "account: can-bo-thu-nghiem\n"
        # the limits applied as to a remote host (loopback is otherwise unlimited): requests go through them
        "politeness: {contact: qa@example.invalid, limit_loopback: true, requests_per_second: 50, burst: 20}\n"
    )
    profile = profile_for(portal, tmp_path / "staging.yaml", replace={"environment: sandbox\n": account})
    portal.set_faults(["submit_500"])  # logged in, OTP typed, form filled: then fails, keeping evidence
    out = tmp_path / "out"
    code = main(["shop", "--target", str(profile), "--out", str(out), "--service", "dang-ky-thuong-tru"])
    logs = capsys.readouterr()

    assert code == 1
    assert sent, "the journey logged in with an OTP"
    artifacts = every_artifact(out)
    assert any(name.endswith(".png") for name in artifacts), "a screenshot was kept"
    assert any("-trace.zip!" in name for name in artifacts), "a trace was kept"
    assert (out / "results.json").is_file() and (out / "scorecard.html").is_file()
    artifacts["stdout"], artifacts["stderr"] = logs.out.encode(), logs.err.encode()
    for secret in [tester.password, *sent]:
        leaked = [name for name, data in artifacts.items() if secret.encode() in data]
        assert leaked == [], f"a secret is in {leaked}"
    browser_agents = portal.store.user_agents - {
        a for a in portal.store.user_agents if a.startswith("Python")
    }
    assert browser_agents and all("contact: qa@example.invalid" in a for a in browser_agents), browser_agents
    results = (out / "results.json").read_text(encoding="utf-8")
    assert '"failed_step": "submit"' in results
