"""The ward runner's profile and portal secrets arrive as systemd credentials: two files in one folder,
mode 0400 (docs/deploy.md, "Secrets: files only"). The profile names its secrets file relatively, so
dvcwatch finds it beside the profile there, and the secrets file's privacy check accepts 0400.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dvcwatch.core.credentials import AccountResolver
from dvcwatch.core.errors import ConfigError
from dvcwatch.core.profile import load_profile
from dvcwatch.core.target import resolve_target

ROOT = Path(__file__).resolve().parents[2]
SANDBOX_PROFILE = ROOT / "dvcwatch" / "core" / "profiles" / "sandbox.yaml"
ACCOUNTS = """
secrets_file: portal-secrets.yaml
accounts:
  - name: can-bo-thu-nghiem-1
    username: "001099012345"
    password: {key: tester-1.password}
account: can-bo-thu-nghiem-1
"""


def credentials_folder(tmp_path: Path, secrets_mode: int) -> Path:
    """As systemd lays out /run/credentials/<unit>/: the files copied in, read-only for the service."""
    folder = tmp_path / "credentials"
    folder.mkdir()
    text = SANDBOX_PROFILE.read_text(encoding="utf-8")
    text = text.replace("accounts: []", "").replace("account: null", "")
    (folder / "profile.yaml").write_text(text + ACCOUNTS, encoding="utf-8")
    (folder / "portal-secrets.yaml").write_text("tester-1:\n  password: ThuNghiem@2026\n", encoding="utf-8")
    (folder / "profile.yaml").chmod(0o400)
    (folder / "portal-secrets.yaml").chmod(secrets_mode)
    return folder


def account_from(folder: Path):  # type: ignore[no-untyped-def]
    target = resolve_target(str(folder / "profile.yaml"))
    resolver = AccountResolver(
        load_profile(folder / "profile.yaml").accounts_config(), base_dir=target.profile_dir
    )
    return resolver.account("can-bo-thu-nghiem-1")


def test_the_secrets_file_is_found_beside_the_profile_in_the_credentials_folder(tmp_path: Path) -> None:
    account = account_from(credentials_folder(tmp_path, 0o400))
    assert account.password.reveal() == "ThuNghiem@2026"
    assert "ThuNghiem" not in repr(account)


def test_a_secrets_file_others_may_read_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="chmod 600"):
        account_from(credentials_folder(tmp_path, 0o444))
