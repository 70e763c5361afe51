"""The API flow logs in the way the mystery shopper does on a real portal: as one of the target
profile's test accounts (secret from the environment or a private secrets file) with the OTP from the
profile's source, and neither secret reaches a failure reason. Against the sandbox, posing as a
staging portal whose OTP arrives through an "SMS forwarder" (the sandbox's test endpoint read as a
plain HTTP source)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from dvcwatch.core.catalog import load_catalog
from dvcwatch.core.errors import ConfigError
from dvcwatch.core.identities import citizen
from dvcwatch.core.profile import load_profile
from probes.config import load_config, load_config_text
from probes.generate import generate, to_yaml
from probes.one_round import probe_all

WHO = citizen(42, 7)  # pre-registered by the sandbox (seed 42)


def staging_profile(tmp_path: Path, base_url: str, password: dict[str, str], **extra: object) -> Path:
    doc = {
        "version": 2,
        "name": "tinh-thu-nghiem",
        "base_url": base_url,
        "environment": "staging",
        "otp": {"source": "http", "url": "/_sandbox/otp?cccd={cccd}", "json_field": "otp", "timeout": 5},
        "accounts": [{"name": "can-bo-1", "username": WHO.cccd, "password": password}],
        "account": "can-bo-1",
        "politeness": {"contact": "sre@tinh.example"},
        "paths": {"api_base": "/api/v1"},  # a portal built like the sandbox declares its JSON API
        **extra,
    }
    path = tmp_path / "profiles" / "tinh.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def generated_config(tmp_path: Path, profile_path: Path) -> Path:
    profile = load_profile(profile_path)
    config = generate(profile, catalog=load_catalog(), profile_path=str(profile_path))
    out = tmp_path / "probes" / "probes.yaml"
    out.parent.mkdir(exist_ok=True)
    out.write_text(to_yaml(config, profile), encoding="utf-8")
    return out


def flow_of(results):  # type: ignore[no-untyped-def]
    return next(r for r in results if r.target.kind == "api_flow")


async def test_generated_flow_logs_in_as_the_profiles_account_with_its_otp_source(
    sandbox, put_faults, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TINH_TESTER_PW", WHO.password)
    profile_path = staging_profile(tmp_path, sandbox.url, {"env": "TINH_TESTER_PW"})
    config_path = generated_config(tmp_path, profile_path)
    text = config_path.read_text(encoding="utf-8")
    assert WHO.password not in text, "a generated config never holds a secret"
    config = load_config(config_path)
    flow = next(t for t in config.targets if t.kind == "api_flow")
    assert flow.credentials.profile == str(profile_path.resolve())
    assert flow.credentials.account == "can-bo-1"
    assert flow.otp is not None and flow.otp.source == "http"
    assert config.politeness.contact == "sre@tinh.example"

    result = flow_of(await probe_all(config))
    assert result.success, result.observation.failure
    assert set(result.observation.steps) >= {"login", "otp", "form"}

    # the SMS never comes: the flow fails at `otp`, and says nothing secret
    put_faults(sandbox, [{"kind": "otp_lost"}])
    lost = flow_of(await probe_all(config))
    assert not lost.success
    assert lost.observation.failed_step == "otp"
    assert WHO.password not in (lost.observation.failure or "")


async def test_a_relative_profile_and_a_private_secrets_file(
    sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = tmp_path / "profiles" / "tinh.secrets.yaml"
    secrets.parent.mkdir(exist_ok=True)
    secrets.write_text(yaml.safe_dump({"can-bo-1": {"password": WHO.password}}), encoding="utf-8")
    os.chmod(secrets, 0o600)
    staging_profile(tmp_path, sandbox.url, {"key": "can-bo-1.password"}, secrets_file="tinh.secrets.yaml")
    config_path = tmp_path / "probes.yaml"
    config_path.write_text(
        "targets:\n"
        f"  - {{name: flow, kind: api_flow, service: cap-ho-chieu, url: '{sandbox.url}/api/v1',\n"
        "     otp: {source: sandbox}, credentials: {profile: profiles/tinh.yaml}}\n",
        encoding="utf-8",
    )
    monkeypatch.chdir("/")  # the profile is found beside the config, not in the working directory
    result = flow_of(await probe_all(load_config(config_path)))
    assert result.success, result.observation.failure

    # a secrets file others may read is refused when the config loads, naming the target
    os.chmod(secrets, 0o644)
    with pytest.raises(ConfigError) as exc:
        load_config(config_path)
    assert "targets[0](flow).credentials" in str(exc.value) and "chmod 600" in str(exc.value)
    assert WHO.password not in str(exc.value)


def test_a_missing_secret_stops_the_prober_on_load_naming_the_variable(
    sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TINH_TESTER_PW", raising=False)
    config_path = generated_config(
        tmp_path, staging_profile(tmp_path, sandbox.url, {"env": "TINH_TESTER_PW"})
    )
    with pytest.raises(ConfigError) as exc:
        load_config(config_path)
    assert "TINH_TESTER_PW" in str(exc.value) and "credentials" in str(exc.value)
    load_config(config_path, secrets=False)  # the file itself is fine


@pytest.mark.parametrize(
    ("credentials", "expected"),
    [
        ("{synthetic: {seed: 42, index: 1}, profile: p.yaml}", "one source of credentials"),
        ("{cccd_env: A_CCCD, password_env: A_PW, profile: p.yaml}", "one source of credentials"),
        ("{account: can-bo-1}", "give profile too"),
    ],
)
def test_credentials_take_one_source(credentials: str, expected: str) -> None:
    text = (
        "targets:\n  - {name: flow, kind: api_flow, service: cap-ho-chieu, url: 'http://127.0.0.1:1/api/v1',"
        f" credentials: {credentials}}}\n"
    )
    with pytest.raises(ConfigError, match=expected):
        load_config_text(text, secrets=False)


def test_an_unattended_prober_cannot_wait_for_a_person(tmp_path: Path) -> None:
    text = (
        "targets:\n  - {name: flow, kind: api_flow, service: cap-ho-chieu, url: 'http://127.0.0.1:1/api/v1',"
        " otp: {source: prompt}, credentials: {synthetic: {seed: 42, index: 1}}}\n"
    )
    with pytest.raises(ConfigError, match="prompt"):
        load_config_text(text, secrets=False)
    path = staging_profile(tmp_path, "http://127.0.0.1:1", {"env": "X_PW"}, otp={"source": "prompt"})
    config = generate(load_profile(path), catalog=load_catalog(), profile_path=str(path))
    assert not [t for t in config["targets"] if t.get("kind") == "api_flow"]
    # nor a recorded flow: the generated config says why instead of failing to load
    from dvcwatch.core.flows import load_flows
    from probes.generate import plan

    flows = load_flows(Path(__file__).parents[1] / "data" / "flows" / "third_portal")
    made = plan(
        load_profile(path), catalog=load_catalog(), profile_path=str(path), flows=flows, flows_dir="f"
    )
    assert not [t for t in made.config["targets"] if t.get("kind") == "flow"]
    assert any("needs a person" in note for note in made.notes)


def test_a_totp_source_without_a_seed_stops_the_prober_on_load(tmp_path: Path) -> None:
    path = tmp_path / "probes.yaml"
    path.write_text(
        "targets:\n"
        "  - {name: flow, kind: api_flow, service: cap-ho-chieu, url: 'http://127.0.0.1:1/api/v1',\n"
        "     otp: {source: totp}, credentials: {synthetic: {seed: 42, index: 1}}}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert "targets[0](flow).otp" in str(exc.value) and "totp_secret_env" in str(exc.value)


def test_profiles_named_in_modules_are_read_beside_the_config_too(
    sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from probes.config import module_target

    monkeypatch.setenv("TINH_TESTER_PW", WHO.password)
    staging_profile(tmp_path, sandbox.url, {"env": "TINH_TESTER_PW"})
    path = tmp_path / "probes.yaml"
    path.write_text(
        "modules:\n"
        "  flow: {kind: api_flow, service: cap-ho-chieu, credentials: {profile: profiles/tinh.yaml},\n"
        f"         allowed_targets: ['{sandbox.url}']}}\n"
        "probe_only: true\n",
        encoding="utf-8",
    )
    target = module_target(load_config(path), "flow", f"{sandbox.url}/api/v1")
    assert target.credentials.profile == str(tmp_path / "profiles" / "tinh.yaml")


def test_the_generated_config_names_the_profile_relative_to_itself(
    sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dvcwatch.commands.cli import main

    monkeypatch.setenv("TINH_TESTER_PW", WHO.password)
    profile_path = staging_profile(tmp_path, sandbox.url, {"env": "TINH_TESTER_PW"})
    out = tmp_path / "probes" / "ward.yaml"
    out.parent.mkdir()
    monkeypatch.chdir(tmp_path)
    assert main(["probe", "--from-catalog", str(profile_path), "--out", str(out)]) == 0
    assert "profile: ../profiles/tinh.yaml" in out.read_text(encoding="utf-8")
    monkeypatch.chdir("/")
    flow = next(t for t in load_config(out).targets if t.kind == "api_flow")
    assert flow.credentials.profile == str(profile_path)
