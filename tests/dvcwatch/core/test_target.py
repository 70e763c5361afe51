"""`--target` is a URL only when it has an http(s) scheme, `://` and a host; anything else is a profile
file, and a profile file's relative `secrets_file` is looked up beside it, whatever its name starts with."""

from __future__ import annotations

from pathlib import Path

import pytest

from dvcwatch.commands.cli import main
from dvcwatch.core.errors import ConfigError
from dvcwatch.core.profile import SANDBOX_PROFILE, load_profile
from dvcwatch.core.target import resolve_target


def staging_profile(path: Path) -> Path:
    """The sandbox's profile as a staging portal whose one account's password is in a secrets file
    named relative to the profile."""
    text = SANDBOX_PROFILE.read_text(encoding="utf-8")
    for old, new in (
        ("environment: sandbox ", "environment: staging "),
        ("accounts: []", "accounts: [{name: tester, username: '001090000001', password: {key: tester}}]"),
        ("account: null", "account: tester\nsecrets_file: portal.secrets.yaml"),
    ):
        assert old in text
        text = text.replace(old, new)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_whose_name_starts_with_http_is_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    staging_profile(tmp_path / "http-portal.yaml")
    target = resolve_target("http-portal.yaml")
    assert (target.url, target.path, target.profile_dir) == (None, Path("http-portal.yaml"), Path("."))
    assert load_profile("http-portal.yaml").environment == "staging"


def test_a_url_has_a_scheme_and_a_host() -> None:
    assert resolve_target("http://127.0.0.1:8480/").url == "http://127.0.0.1:8480"
    assert resolve_target("https://portal.example.invalid").profile_dir == Path(".")


@pytest.mark.parametrize(
    "spec", ["http:/127.0.0.1", "ftp://portal.example.invalid", "http://", "nowhere.yaml"]
)
def test_neither_a_url_nor_an_existing_file_is_one_clear_error(
    spec: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"http\(s\)://"):
        resolve_target(spec)


@pytest.mark.parametrize("profile", ["http-portal.yaml", "https-portals/tinh-x.yaml"])
def test_shop_loads_a_profile_named_like_a_url_and_reads_the_secrets_file_beside_it(
    profile: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The secrets file beside the profile is not a mapping: shop must reach it (and stop there with
    exit 2, before any browser starts). Taken for a URL, `https-portals/tinh-x.yaml` would send shop to
    look for ./portal.secrets.yaml instead and report that file missing."""
    monkeypatch.chdir(tmp_path)
    staging_profile(tmp_path / profile)
    secrets = (tmp_path / profile).parent / "portal.secrets.yaml"
    secrets.write_text("- not a mapping\n", encoding="utf-8")
    secrets.chmod(0o600)
    code = main(["shop", "--target", profile, "--service", "cap-ho-chieu", "--out", "out"])
    err = capsys.readouterr().err
    assert code == 2, err
    beside = str(Path(profile).parent / "portal.secrets.yaml")
    assert f"error: {beside}: expected a mapping" in err, err
