"""Whose CCCD fills the e-form when a test account logs in: a synthetic citizen's by default, the
account's own with `journey.form_identity: account`."""

from __future__ import annotations

from pathlib import Path

import pytest

from dvcwatch.core.catalog import load_catalog
from dvcwatch.core.credentials import Account, Secret
from dvcwatch.core.formdata import fill
from dvcwatch.core.identities import citizens
from dvcwatch.core.profile import load_profile
from playwright_journeys.journey import Errand, Journey, Login, Options, Tab
from playwright_journeys.personas import load_personas

CATALOG = load_catalog()
SERVICE = CATALOG.service("cap-doi-gplx")
WHO = citizens(42, 1)[0]
ACCOUNT = Account("can-bo-1", "001099012345", Secret("mat-khau"))


def journey(tmp_path: Path, identity: str | None, account: Account | None) -> Journey:
    path = tmp_path / "p.yaml"
    setting = f"journey: {{form_identity: {identity}}}\n" if identity else ""
    path.write_text(f"version: 2\nname: x\nbase_url: http://127.0.0.1:9\n{setting}", encoding="utf-8")
    persona = load_personas().get("desktop")
    return Journey(
        Tab(None, None),  # type: ignore[arg-type]  # nothing here opens a page
        Errand(load_profile(path), CATALOG, SERVICE),
        Login.of(WHO, account, None),
        Options(persona, 10.0),
    )


@pytest.mark.parametrize(
    ("identity", "account", "cccd"),
    [
        (None, ACCOUNT, WHO.cccd),  # default: the synthetic citizen's
        ("synthetic", ACCOUNT, WHO.cccd),
        ("account", ACCOUNT, ACCOUNT.username),
        ("account", None, WHO.cccd),  # no account: the synthetic citizen logs in and fills
    ],
)
def test_the_form_identity_decides_the_cccd_on_the_form(
    tmp_path: Path, identity: str | None, account: Account | None, cccd: str
) -> None:
    j = journey(tmp_path, identity, account)
    assert fill(CATALOG, SERVICE, j.citizen)["so_cccd"] == cccd
    assert j.citizen.full_name == WHO.full_name  # the other details stay the synthetic citizen's
    assert j.username == (account.username if account else WHO.cccd)
