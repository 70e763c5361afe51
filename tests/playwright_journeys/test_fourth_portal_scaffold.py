"""Issue #27's "done when" on the fourth portal (ASP.NET MVC style, tests/fixtures/fourth_portal), from
nothing as docs/real-portals.md §11 walks it: the partial profile is scaffolded by `dvcwatch profile
scaffold`, the entries it leaves are settled by the fixture's `decisions.yaml` (fewer than 30 lines,
each settling an entry the scaffold asked for, and every entry settled), and the result sweeps 25/25
at --parallel 4 with the one account. On the same profile: a portal-only document taken out of it is
the profile's gap (`error`, naming the document in the portal's words), never the portal's `fail`;
a payment the gateway declines says so in the gateway's words.

The portal runs in this process; `dvcwatch shop` is a child, as an operator runs it. The scaffold runs
once for the module (it reads 25 e-forms); each test works on its own copy of its output.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fixtures.fourth_portal import DECLINE_WORDS, DECLINED, PORTAL_ONLY_DOCUMENTS, FourthPortal
from fixtures.fourth_portal.target import (
    DECISIONS,
    hand_lines,
    merge_decisions,
    password_env,
    profile_for,
    settle,
    undecided,
)

from dvcwatch.core.catalog import load_catalog
from dvcwatch.core.profile import load_profile

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(1800)]

REPO = Path(__file__).resolve().parents[2]
CATALOG = load_catalog()
SWEEP_DEADLINE = 1200  # bounds a broken run only
MAX_HAND_LINES = 30
BUNDLE, PAID = "lien-thong-khai-sinh", "cap-phieu-ly-lich-tu-phap"


@pytest.fixture(scope="module")
def portal() -> Iterator[FourthPortal]:
    with FourthPortal(result_delay=0.2) as p:
        yield p


@pytest.fixture(scope="module")
def scaffolded(portal: FourthPortal, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, int]:
    """(the scaffold's output, its console, its exit code), from the partial profile, once."""
    where = tmp_path_factory.mktemp("scaffold")
    partial = profile_for(portal, where / "partial.yaml")
    out = where / "scaffolded.yaml"
    env = {**os.environ, **password_env(portal)}
    proc = subprocess.run(
        [sys.executable, "-m", "dvcwatch", "profile", "scaffold", str(partial), "--out", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=SWEEP_DEADLINE, check=False,
    )  # fmt: skip
    return out, proc.stdout + proc.stderr, proc.returncode


@pytest.fixture
def decided(scaffolded: tuple[Path, str, int], tmp_path: Path) -> Path:
    """The scaffold's output with decisions.yaml merged in (every entry it asked for settled)."""
    out, console, code = scaffolded
    assert code in (0, 1) and out.exists(), console[-3000:]
    path = settle(out, tmp_path / "decided.yaml")
    left = undecided(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert not left, f"entries decisions.yaml does not settle: {left}"
    return path


def shop(portal: FourthPortal, profile: Path, out: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    env = {**os.environ, **password_env(portal)}
    argv = [sys.executable, "-m", "dvcwatch", "shop", "--target", str(profile), "--out", str(out)]
    proc = subprocess.run(
        [*argv, "--parallel", "4", "--trace", "off", *extra],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=SWEEP_DEADLINE, check=False,
    )  # fmt: skip
    results = json.loads((out / "results.json").read_text()) if (out / "results.json").exists() else {}
    return proc.returncode, results, proc.stdout + proc.stderr


def without(profile: dict[str, Any], sid: str, name: str) -> dict[str, Any]:
    """The profile without the document `name` for `sid`: its extra_documents entry deleted, or, once
    the catalog lists it, the catalog document marked not asked (`documents: {<id>: null}`)."""
    form = profile["forms"].setdefault(sid, {}) or {}
    profile["forms"][sid] = form
    extra = form.get("extra_documents") or {}
    mine = [k for k, d in extra.items() if d.get("name") == name]
    if mine:
        del extra[mine[0]]
    else:
        (doc,) = [d for d in CATALOG.service(sid).documents if d.name_vi == name]
        form["documents"] = {**(form.get("documents") or {}), doc.id: None}
    return profile


def by_service(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["service"]: r for r in results.get("results", [])}


def test_the_decisions_are_few_and_settle_exactly_what_the_scaffold_asked(
    scaffolded: tuple[Path, str, int],
) -> None:
    out, console, code = scaffolded
    assert code == 1, console[-3000:]  # written, with entries left to decide
    assert hand_lines(DECISIONS) < MAX_HAND_LINES
    written = yaml.safe_load(out.read_text(encoding="utf-8"))
    asked = sum(len((f or {}).get("decide") or {}) for f in written["forms"].values())
    told = re.search(r"(\d+) entries to decide", console)
    assert told and int(told.group(1)) == asked, (asked, console[-1500:])  # the console counts the file's
    decisions = yaml.safe_load(DECISIONS.read_text(encoding="utf-8"))
    profile, settled = merge_decisions(written, decisions)
    assert not undecided(profile), f"entries decisions.yaml does not settle: {undecided(profile)}"
    for sid in decisions["forms"]:  # each decision answers something the scaffold asked
        assert settled[sid], f"{sid}: the scaffold asked nothing these decisions settle"
    # the portal-only documents need no decision: the scaffold wrote them, in the portal's words
    # (or matched the catalog's own, for those the catalog has come to list)
    for sid, (_, name, _) in PORTAL_ONLY_DOCUMENTS.items():
        extra = (written["forms"][sid] or {}).get("extra_documents") or {}
        listed = any(d.name_vi == name for d in CATALOG.service(sid).documents)
        assert [d["name"] for d in extra.values()] == ([] if listed else [name]), (sid, extra)
    # what the partial profile already said is kept: the agencies' words
    assert load_profile(out).agency_name(BUNDLE, "social-insurance") == "Bảo hiểm xã hội Việt Nam"


def test_the_decided_scaffold_passes_all_25_at_parallel_4_with_one_account(
    portal: FourthPortal, decided: Path, tmp_path: Path
) -> None:
    before = portal.counts()
    code, results, output = shop(portal, decided, tmp_path / "out")
    got = {
        sid: (r["verdict"], r["failed_step"], (r.get("failure") or {}).get("message"))
        for sid, r in by_service(results).items()
    }
    assert got == {s.id: ("pass", None, None) for s in CATALOG.services}, output[-3000:]
    assert code == 0 and not results["partial"]
    after = portal.counts()
    assert after["dossiers"] - before["dossiers"] == 25
    assert after["otp_refused"] == before["otp_refused"]  # one account, four at once
    assert (
        after["refused_forms"] == before["refused_forms"]
        and after["forgery_refused"] == before["forgery_refused"]
    )


def test_a_portal_only_document_left_out_is_the_profiles_gap_in_the_portals_words(
    portal: FourthPortal, decided: Path, tmp_path: Path
) -> None:
    _, name, _ = PORTAL_ONLY_DOCUMENTS[BUNDLE]
    gap = tmp_path / "gap.yaml"
    gap.write_text(
        yaml.safe_dump(
            without(yaml.safe_load(decided.read_text(encoding="utf-8")), BUNDLE, name),
            allow_unicode=True,
            sort_keys=False,
        ),
        encoding="utf-8",
    )
    code, results, output = shop(portal, gap, tmp_path / "out", "--service", BUNDLE)
    r = by_service(results)[BUNDLE]
    assert r["verdict"] == "error", (r["verdict"], r["failed_step"], r.get("failure"), output[-2000:])
    said = json.dumps(r["failure"], ensure_ascii=False)
    assert name in said and f"Vui lòng đính kèm «{name}»" in said, said  # the portal's own words
    assert code != 0


def test_a_declined_payment_says_so_in_the_gateways_words(
    portal: FourthPortal, decided: Path, tmp_path: Path
) -> None:
    portal.set_faults([{"kind": "decline", "service": PAID}])
    try:
        code, results, output = shop(portal, decided, tmp_path / "out", "--service", PAID)
    finally:
        portal.set_faults([])
    r = by_service(results)[PAID]
    assert (r["verdict"], r["failed_step"]) == ("fail", "payment"), (r.get("failure"), output[-2000:])
    failure = r["failure"]
    assert "payment did not go through" in failure["message"], failure
    assert DECLINED in failure["seen"] and DECLINE_WORDS in failure["seen"], failure
    assert code == 1
