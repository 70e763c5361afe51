"""The profile model names no portal's page: a selector a profile omits is lent by the built-in sandbox
profile (`dvcwatch/core/profiles/sandbox.yaml`); one neither gives is an error naming it."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import dvcwatch.core.selector_spec as selector_module  # where Selectors looks the defaults up
from dvcwatch.core.errors import ConfigError
from dvcwatch.core.profile import Selectors, load_profile, sandbox_selectors


def test_the_model_holds_no_selector_literal() -> None:
    tree = ast.parse(inspect.getsource(Selectors))
    literals = [
        node.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Constant) and node.value.value
    ]
    assert literals == []
    assert all(f.is_required() or f.default is None for f in Selectors.model_fields.values())


def test_a_profile_that_omits_a_selector_gets_the_sandbox_profiles(tmp_path: Path) -> None:
    f = tmp_path / "portal.yaml"
    f.write_text(
        "name: tinh-x\nbase_url: https://dvc.example.invalid\nselectors:\n  login_cccd: '#so-cccd'\n",
        encoding="utf-8",
    )
    sel = load_profile(str(f)).selectors
    assert sel.login_cccd == "#so-cccd"
    assert sel.login_password == sandbox_selectors()["login_password"] == '[data-testid="login-password"]'
    assert sel.review_amount is None  # set in the sandbox profile, but a null-by-default one is never lent


def test_a_selector_neither_the_profile_nor_the_sandbox_gives_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lent = {k: v for k, v in sandbox_selectors().items() if k != "otp_submit"}
    monkeypatch.setattr(selector_module, "sandbox_selectors", lambda: lent)
    f = tmp_path / "portal.yaml"
    f.write_text("name: tinh-x\nbase_url: https://dvc.example.invalid\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="otp_submit"):
        load_profile(str(f))
