"""`dvcwatch profile scaffold` in a real browser. On the third portal (other labels, option wording and
document names than the catalog's, applicant shown not asked, a wizard, login through the service's
button) what it matched is written as the portal has it, and every control, option, slot and catalog
field it could not match is named in the file, on the console and by `profile check`; nothing is
filed or paid. On the sandbox (the catalog's own forms) everything matches and the output passes
`profile check` unedited."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures.third_portal import ThirdPortal
from fixtures.third_portal.target import password_env, profile_for

from dvcwatch.commands.cli import main
from dvcwatch.core.catalog import load_catalog
from dvcwatch.core.profile import SANDBOX_PROFILE, Profile, load_profile
from playwright_journeys.scaffold.labels import same

CATALOG = load_catalog()
SERVICES = [s.id for s in CATALOG.services]  # all 25: the partial profile maps each to its code


@pytest.fixture
def portal() -> Iterator[ThirdPortal]:
    with ThirdPortal(result_delay=0.2) as p:
        yield p


def _partial(portal: ThirdPortal, tmp_path: Path) -> Path:
    """The fixture's profile without its forms: what a person has before scaffolding."""
    full = profile_for(portal, tmp_path / "full.yaml").read_text(encoding="utf-8")
    partial = tmp_path / "partial.yaml"
    partial.write_text(full[: full.index("\nforms:")] + "\n", encoding="utf-8")
    return partial


def where(prof: Profile, sid: str, what: str) -> str:
    """The section the console names an entry under: the file's, where an entry every service
    shares is written once, under default (the console counts and lists what the file holds)."""
    return sid if what in prof.forms[sid].decide else "default"


@pytest.mark.browser
def test_scaffold_on_the_third_portal_writes_what_matched_and_names_the_rest(
    portal: ThirdPortal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for k, v in password_env(portal).items():
        monkeypatch.setenv(k, v)
    out = tmp_path / "scaffolded.yaml"
    code = main(["profile", "scaffold", str(_partial(portal, tmp_path)), "--out", str(out)])
    console = " ".join(capsys.readouterr().out.split())
    assert code == 1, console  # written, with entries left to decide
    prof = load_profile(out)
    written = out.read_text(encoding="utf-8")
    hand = load_profile(profile_for(portal, tmp_path / "hand.yaml"))  # the fixture's hand-written one
    assert portal.counts()["dossiers"] == 0 and portal.counts()["payments"] == 0
    matched = unmatched = slots_read = 0
    for sid in SERVICES:
        form, s = portal.forms[sid], CATALOG.service(sid)
        section = prof.form_for(sid)
        decide = section.decide
        fields = {f.name: f for f in CATALOG.all_fields(s)}
        for pf in form.fields:
            cf = fields.get(pf.catalog or "")
            # a label matches, unless the control offers none of the field's options (then the same
            # words ask another question, as the child's «Giới tính» with «Bé trai», «Bé gái»)
            offers = cf is not None and (
                not pf.choices or any(same(c.text, o) for c in pf.choices for o in cf.options or [])
            )
            if cf is not None and same(pf.label, cf.label_vi) and offers:
                # (a) matched: written as the portal (and the hand-written profile) has it
                matched += 1
                assert f"control «{pf.label}»" not in decide, (sid, pf.label)
                assert prof.field_label(sid, cf) == pf.label == hand.field_label(sid, cf)
                if pf.choices and all(same(c.text, c.catalog or "") for c in pf.choices):
                    wording = section.fields[cf.name].options if cf.name in section.fields else {}
                    assert all(same(wording.get(c.catalog, c.catalog), c.text) for c in pf.choices)
                elif pf.choices:
                    assert f"options of {cf.name}" in decide, (sid, cf.name)
                    assert f"{where(prof, sid, f'options of {cf.name}')}: options of {cf.name}" in console
            else:
                # (b) not matched: named in the file and on the console
                unmatched += 1
                assert f"control «{pf.label}»" in decide, (sid, pf.label)
                assert f"{where(prof, sid, f'control «{pf.label}»')}: control «{pf.label}»" in console
        for name in form.absent:  # a required one is to decide; an optional one needs nothing
            if fields[name].required:
                assert f"field {name}" in decide, (sid, name)
            else:
                assert f"# {name} «{fields[name].label_vi}» (optional) is not on the e-form" in written
        if "documents" in decide:  # the first page refused the made-up values: slots not read
            assert re.search(r"refused the made-up values", decide["documents"]), decide["documents"]
            continue
        slots_read += 1
        for sl in form.slots:
            doc = next(d for d in s.documents if d.id == sl.document)
            if same(sl.label, doc.name_vi):
                matched += 1
                assert prof.document_name(sid, doc) == sl.label == hand.document_name(sid, doc)
            else:
                unmatched += 1
                assert f"slot «{sl.label}»" in decide and f"document {doc.id}" in decide, (sid, sl.label)
    # 7: the six slots named as the catalog names them, and lien-thong-khai-sinh's «Tờ khai tham gia BHYT
    # (Mẫu TK1-TS)», a catalog document since issue #27 (the procedure requires it)
    assert (matched, slots_read) == (7, 25) and unmatched >= 100, (matched, unmatched, slots_read)
    # profile check refuses the file until a person has decided, naming each entry
    capsys.readouterr()
    assert main(["profile", "check", str(out), "--service", SERVICES[0], "--out", str(tmp_path / "c")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "left for a person to decide" in err
    for sid in ["default", *SERVICES]:  # entries every service shares are written once, under default
        for what in prof.forms[sid].decide:
            assert f"{sid}: {what}" in err
    assert "control «Số điện thoại liên hệ»" in prof.forms["default"].decide
    # the console's count is the file's: entries under default are counted once
    entries = sum(len(f.decide) for f in prof.forms.values())
    assert f"left for a person to decide ({entries})" in console and f"{entries} entries to decide" in console


@pytest.mark.browser
def test_scaffold_on_the_sandbox_matches_everything_and_passes_profile_check(
    sandbox: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    partial = tmp_path / "partial.yaml"
    text = SANDBOX_PROFILE.read_text(encoding="utf-8")
    partial.write_text(
        re.sub(r"^base_url:.*$", f"base_url: {sandbox.url}", text, count=1, flags=re.M),  # type: ignore[attr-defined]
        encoding="utf-8",
    )
    out = tmp_path / "scaffolded.yaml"
    services = ["cap-doi-cccd", "lien-thong-khai-sinh"]
    argv = ["profile", "scaffold", str(partial), "--out", str(out)]
    for sid in services:
        argv += ["--service", sid]
    assert main(argv) == 0, capsys.readouterr().out
    prof = load_profile(out)
    assert all(not prof.form_for(sid).decide for sid in services)
    written = out.read_text(encoding="utf-8")
    assert "# ly_do_cap ← «Lý do cấp» select, required, options «Mất thẻ»" in written
    check = ["profile", "check", str(out), "--service", "cap-doi-cccd", "--through", "result"]
    assert main([*check, "--out", str(tmp_path / "check")]) == 0, capsys.readouterr().out


@pytest.mark.browser
def test_in_production_it_reads_the_first_page_only_and_saves_no_draft(
    portal: ThirdPortal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for k, v in password_env(portal).items():
        monkeypatch.setenv(k, v)
    partial = _partial(portal, tmp_path)
    text = partial.read_text(encoding="utf-8")
    partial.write_text(text.replace("environment: sandbox", "environment: production"), encoding="utf-8")
    out = tmp_path / "scaffolded.yaml"
    code = main(["profile", "scaffold", str(partial), "--out", str(out), "--service", "dang-ky-xe"])
    console = " ".join(capsys.readouterr().out.split())
    assert code == 1, console
    assert "production: reading is allowed; only the first page of each e-form is read" in console
    decide = load_profile(out).form_for("dang-ky-xe").decide
    assert "production" in decide["documents"] and "control «Màu sơn»" in decide
    assert not portal.store.drafts and portal.counts()["dossiers"] == 0


@pytest.mark.browser
def test_a_refused_login_writes_nothing_and_says_so_without_the_password(
    portal: ThirdPortal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for k in password_env(portal):
        monkeypatch.setenv(k, "Sai-mat-khau-42")
    out = tmp_path / "scaffolded.yaml"
    code = main(
        ["profile", "scaffold", str(_partial(portal, tmp_path)), "--out", str(out), "--service", "dang-ky-xe"]
    )
    console = " ".join(capsys.readouterr().out.split())
    assert code == 1 and not out.exists()
    assert "FAILED to log in, nothing was read: login: the login was refused" in console
    assert "Sai-mat-khau-42" not in console
