"""Production on the third portal: by default no document leaves the harness (the journey stops at
the documents page and says so, `checked_to: upload`, verdict `not_filed`); with
`journey.production_uploads: true` the files go up and the journey stops at payment or submit.
Nothing is ever filed or paid either way."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures.third_portal import ThirdPortal
from fixtures.third_portal.target import password_env, profile_for

from dvcwatch.commands.cli import main

pytestmark = pytest.mark.browser

PAID, FREE = "cap-ho-chieu", "khai-bao-tam-vang"


@pytest.fixture
def portal() -> Iterator[ThirdPortal]:
    with ThirdPortal(result_delay=0.2) as p:
        yield p


def production_sweep(
    portal: ThirdPortal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, uploads: bool
) -> dict[str, dict]:
    for k, v in password_env(portal).items():
        monkeypatch.setenv(k, v)
    replace = {"environment: sandbox": "environment: production"}
    if uploads:
        replace["journey:\n"] = "journey:\n  production_uploads: true\n"
    profile = profile_for(portal, tmp_path / "production.yaml", replace=replace)
    out = tmp_path / "out"
    argv = ["shop", "--target", str(profile), "--out", str(out), "--parallel", "2", "--trace", "off"]
    code = main([*argv, "--service", PAID, "--service", FREE])
    assert code == 0
    return {r["service"]: r for r in json.loads((out / "results.json").read_text())["results"]}


def documents_sent(portal: ThirdPortal) -> int:
    store = portal.store  # the fixture's own record of what arrived
    with store.lock:
        return sum(len(d.documents) for d in store.drafts.values())


def test_production_stops_before_the_documents_by_default(
    portal: ThirdPortal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = production_sweep(portal, tmp_path, monkeypatch, uploads=False)
    for sid in (PAID, FREE):
        r = results[sid]
        steps = {s["name"]: s for s in r["steps"]}
        assert (r["verdict"], r["checked_to"]) == ("not_filed", "upload"), r["steps"]
        assert steps["upload"]["status"] == "passed"
        assert "production_uploads" in steps["upload"]["detail"]
        assert all(s["status"] == "not_run" for s in r["steps"][[*steps].index("upload") + 1 :])
    assert documents_sent(portal) == 0
    assert portal.counts()["dossiers"] == 0 and portal.counts()["payments"] == 0


def test_production_uploads_when_the_profile_allows_it(
    portal: ThirdPortal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = production_sweep(portal, tmp_path, monkeypatch, uploads=True)
    assert {s: (r["verdict"], r["checked_to"]) for s, r in results.items()} == {
        PAID: ("not_filed", "payment"),
        FREE: ("not_filed", "submit"),
    }
    assert documents_sent(portal) >= 2
    assert portal.counts()["dossiers"] == 0 and portal.counts()["payments"] == 0
