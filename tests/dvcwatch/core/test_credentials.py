"""Test accounts: secrets from env or a private file, never shown, scrubbed from whatever a run keeps."""

from __future__ import annotations

import json
import logging
import pickle
from pathlib import Path

import pytest

from dvcwatch.core.credentials import (
    AccountResolver,
    AccountsConfig,
    Redactor,
    Secret,
    load_secrets_file,
)
from dvcwatch.core.errors import ConfigError
from dvcwatch.core.yamlconfig import load_model_text

PASSWORD = "Tk@p4ss wörd&x=1"
OTP = "482915"

PROFILE = """
secrets_file: secrets.yaml
accounts:
  - name: tester-1
    username: "001099012345"
    password: {env: DVC_TESTER1_PASSWORD}
  - name: tester-2
    username: "001199054321"
    password: {key: tester-2.password}
    totp_secret: {key: tester-2.totp}
"""


def _config() -> AccountsConfig:
    return load_model_text(AccountsConfig, PROFILE, "profile.yaml")


def _secrets_file(tmp_path: Path, mode: int = 0o600) -> Path:
    p = tmp_path / "secrets.yaml"
    p.write_text("tester-2:\n  password: 'file-secret-2'\n  totp: JBSWY3DPEHPK3PXP\n", encoding="utf-8")
    p.chmod(mode)
    return p


def test_secret_never_shows_its_value(caplog: pytest.LogCaptureFixture) -> None:
    s = Secret(PASSWORD)
    shown = [repr(s), str(s), f"{s}", f"{s!r}", "%s" % s, f"{s:>20}", repr([s]), repr({"p": s})]  # noqa: UP031
    assert all(PASSWORD not in x for x in shown)
    with caplog.at_level(logging.INFO):
        logging.getLogger("t").info("logging in with %s / %r", s, s)
    assert PASSWORD not in caplog.text
    assert s.reveal() == PASSWORD
    assert s == PASSWORD and s == Secret(PASSWORD) and s != "other"
    with pytest.raises(TypeError):
        pickle.dumps(s)


def test_accounts_resolve_from_env_and_private_file(tmp_path: Path) -> None:
    _secrets_file(tmp_path)
    creds = AccountResolver(_config(), base_dir=tmp_path, environ={"DVC_TESTER1_PASSWORD": PASSWORD})
    one, two = creds.all()
    assert (one.name, one.username, one.password.reveal()) == ("tester-1", "001099012345", PASSWORD)
    assert two.password.reveal() == "file-secret-2"
    assert two.totp_secret is not None and two.totp_secret.reveal() == "JBSWY3DPEHPK3PXP"
    assert PASSWORD not in repr(one) and "file-secret-2" not in repr(two)
    assert PASSWORD not in repr(creds) and "file-secret-2" not in repr(creds)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_secrets_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = _secrets_file(tmp_path, mode)
    creds = AccountResolver(_config(), base_dir=tmp_path, environ={"DVC_TESTER1_PASSWORD": "x"})
    with pytest.raises(ConfigError) as err:
        creds.account("tester-2")
    msg = str(err.value)
    assert str(path) in msg and f"chmod 600 {path}" in msg and f"{mode:03o}" in msg
    assert "file-secret-2" not in msg


def test_missing_env_variable_names_account_and_variable(tmp_path: Path) -> None:
    creds = AccountResolver(_config(), base_dir=tmp_path, environ={})
    with pytest.raises(
        ConfigError, match=r"account tester-1: password: environment variable DVC_TESTER1_PASSWORD"
    ):
        creds.all()


def test_missing_key_and_missing_file(tmp_path: Path) -> None:
    creds = AccountResolver(_config(), base_dir=tmp_path, environ={})
    with pytest.raises(ConfigError, match="secrets file not found"):
        creds.account("tester-2")
    p = tmp_path / "secrets.yaml"
    p.write_text("tester-2: {password: only}\n")
    p.chmod(0o600)
    with pytest.raises(ConfigError, match=r"no key 'tester-2\.totp'"):
        AccountResolver(_config(), base_dir=tmp_path).account("tester-2")
    with pytest.raises(ConfigError, match="unknown account 'nobody'; the profile names: tester-1, tester-2"):
        AccountResolver(_config(), base_dir=tmp_path).account("nobody")


def test_malformed_secrets_file_does_not_quote_its_content(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text("a: 'unterminated-secret-value\nb: [\n")
    p.chmod(0o600)
    with pytest.raises(ConfigError) as err:
        load_secrets_file(p)
    assert "unterminated-secret-value" not in str(err.value) and str(p) in str(err.value)


def test_alias_bomb_in_secrets_file_is_refused_not_expanded(tmp_path: Path) -> None:
    """yaml.safe_load would build 10**9 strings; the shared reader counts the expansion first."""
    rows = ['a: &a ["lol-secret","lol-secret","lol-secret","lol-secret","lol-secret"]']
    rows += [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]" for i in range(9)]
    p = tmp_path / "bomb.yaml"
    p.write_text("\n".join(rows) + "\n")
    p.chmod(0o600)
    with pytest.raises(ConfigError, match="oversized") as err:
        load_secrets_file(p)
    assert "lol-secret" not in str(err.value) and str(p) in str(err.value)


def test_literal_password_in_profile_is_refused_without_echoing_it() -> None:
    text = 'accounts:\n  - name: t\n    username: "001099012345"\n    password: "hunter2-literal"\n'
    with pytest.raises(ConfigError) as err:
        load_model_text(AccountsConfig, text, "profile.yaml")
    msg = str(err.value)
    assert "profile.yaml:4" in msg and "never written in the profile" in msg
    assert "hunter2-literal" not in msg


def test_ref_needs_exactly_one_place() -> None:
    text = "accounts:\n  - {name: t, username: u, password: {env: A, key: b}}\n"
    with pytest.raises(ConfigError, match="exactly one of env"):
        load_model_text(AccountsConfig, text, "p.yaml")


def test_redactor_scrubs_every_wire_form() -> None:
    r = Redactor([Secret(PASSWORD), OTP])
    from urllib.parse import quote, quote_plus

    body = f"cccd=001&password={quote_plus(PASSWORD)}&otp={OTP}"
    logged = json.dumps({"password": PASSWORD, "url": f"/x?p={quote(PASSWORD, safe='')}"})
    html_page = f'<input value="{PASSWORD.replace("&", "&amp;")}">'
    for text in (body, logged, html_page, f"plain {PASSWORD} and {OTP}"):
        clean = r.text(text)
        assert not r.found_in(clean), clean
        assert "***" in clean
    assert r.bytes(body.encode()) == r.text(body).encode()
    assert r.found_in(body.encode()) and not r.found_in(r.bytes(body.encode()))


def test_redactor_walks_data_and_files(tmp_path: Path) -> None:
    r = Redactor()
    r.add(Secret(PASSWORD))
    r.add(None)
    r.add("")
    data = {"steps": [{"typed": PASSWORD, "secret": Secret(OTP)}], PASSWORD: 1, "n": 3}
    clean = r.data(data)
    assert PASSWORD not in json.dumps(clean, ensure_ascii=False) and clean["n"] == 3
    assert clean["steps"][0]["secret"] == "***"
    log = tmp_path / "run.log"
    log.write_text(f"login ok for {PASSWORD}\n", encoding="utf-8")
    assert r.file(log) is True
    assert PASSWORD not in log.read_text(encoding="utf-8")
    assert r.file(log) is False
