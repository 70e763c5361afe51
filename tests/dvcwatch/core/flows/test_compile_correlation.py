"""The compiler's correlation on a recording written by hand: where each value a request sends comes
from, and that the compiled flow replays with the values a different run's answers give."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from har_builder import BASE, IDP, WHO, portal_recording

from dvcwatch.core.credentials import Secret
from dvcwatch.core.flows import Answer, Bindings, Replay, load_flow
from dvcwatch.core.flows.compile import FlowCompiler, compile_recordings
from dvcwatch.core.flows.har import read_recording
from dvcwatch.core.flows.model import Extract
from dvcwatch.core.flows.replay import citizen_values
from dvcwatch.core.flows.rules import FlowRules
from dvcwatch.core.identities import citizen


@pytest.fixture
def flow(tmp_path: Path):  # type: ignore[no-untyped-def]
    return FlowCompiler(read_recording(portal_recording(tmp_path))).compile()


def _requests(flow):  # type: ignore[no-untyped-def]
    return [r for s in flow.steps for r in s.requests]


def test_steps_come_from_the_marks_and_assets_stay_out(flow) -> None:  # type: ignore[no-untyped-def]
    assert [(s.step, len(s.requests)) for s in flow.steps] == [
        ("login", 2),
        ("otp", 2),
        ("find_service", 1),
        ("submit", 3),
        ("payment", 2),
    ]
    assert not any("/static/" in r.url for r in _requests(flow))


def test_each_value_is_a_parameter_a_reference_or_an_extraction(flow) -> None:  # type: ignore[no-untyped-def]
    reqs = _requests(flow)
    login_page, login, otp_page, otp, _home, create, status, receipt, pay, _stats = reqs
    assert login_page.url == "${origin.identity}/login"
    token = login_page.extract[0]
    assert (token.source, token.expr, token.attr) == ("html", '[name="__RequestVerificationToken"]', "value")
    assert login.form == {
        "__RequestVerificationToken": "${" + token.name + "}",
        "user": "${account.username}",
        "password": "${secret.password}",
    }
    # the redirect's whole target, from its Location; then the tx inside it for the next form
    assert otp_page.url == "${" + login.extract[0].name + "}" and login.extract[0].expr == "Location"
    assert otp.form["otp"] == "${otp}" and otp.form["tx"].startswith("${")
    assert create.json_body == {
        "name": "${citizen.full_name}",
        "dob": "${citizen.birth_date_iso}",
        "kind": "A",
    }
    assert {"citizen.full_name", "citizen.birth_date_iso"} <= set(flow.params)
    ids = {e.name: e for e in create.extract}
    assert (
        status.url == "${base}/api/dossiers/${" + next(n for n, e in ids.items() if e.expr == "data.id") + "}"
    )
    assert status.headers["X-CSRF-Token"] == "${" + login_page.extract[1].name + "}"
    assert login_page.extract[1].attr == "content"
    assert receipt.url.startswith("${base}/ho-so/${")
    sig = receipt.extract[0]
    assert sig.source == "regex" and "127.0.0.1" not in sig.expr and "8111" not in sig.expr
    assert (
        pay.url == "${base}/pay?code=${" + pay.url.split("${")[2].split("}")[0] + "}&sig=${" + sig.name + "}"
    )


def test_the_flow_replays_with_another_runs_values(tmp_path: Path) -> None:
    compile_recordings(portal_recording(tmp_path).parent, tmp_path / "flows")
    flow = load_flow(tmp_path / "flows" / "dich-vu-mau.flow.yaml")
    other = citizen(42, 8)
    replay = Replay(
        flow,
        Bindings(
            base="http://127.0.0.1:9001",
            origins={"identity": "http://127.0.0.1:9002"},
            citizen=citizen_values(other),
            username=other.cccd,
            password=Secret(other.password),
            otp=lambda: "654321",
        ),
    )
    html = {"content-type": "text/html"}
    answers = {
        "/login": (
            200,
            html,
            '<meta name="csrf-token" content="NEWcsrf99"><input name="__RequestVerificationToken" value="NEWtok77">',
        ),
        "POST /login": (302, {"Location": "/otp?tx=TXnew999"}, ""),
        "/otp": (200, html, ""),
        "POST /otp": (302, {"Location": "http://127.0.0.1:9001/"}, ""),
        "/": (200, html, "<main></main>"),
        "POST /api/dossiers": (
            201,
            {"content-type": "application/json"},
            json.dumps({"data": {"id": 4242, "code": "HS-9"}}),
        ),
        "/api/dossiers/4242": (200, {"content-type": "application/json"}, "{}"),
        "/ho-so/HS-9": (
            200,
            html,
            '<a class="pay" href="http://127.0.0.1:9001/pay?code=HS-9&amp;sig=ffff0000aaaa1111">x</a>',
        ),
        "/pay": (200, html, "ok"),
        "/thong-ke": (200, {"content-type": "application/json"}, "{}"),
    }
    sent = []
    for prepared in replay:
        sent.append(prepared)
        path = prepared.url.split("/", 3)[3].split("?")[0]
        key = f"POST /{path}" if prepared.method == "POST" else f"/{path}"
        status, headers, body = answers[key]
        assert replay.answer(prepared, Answer(status, headers, body.encode(), prepared.url)) is None, prepared
    urls = [p.url for p in sent]
    assert urls[0] == "http://127.0.0.1:9002/login"
    assert urls[2] == "http://127.0.0.1:9002/otp?tx=TXnew999"
    assert parse_qs(sent[1].body.decode()) == {
        "__RequestVerificationToken": ["NEWtok77"],
        "user": [other.cccd],
        "password": [other.password],
    }
    assert parse_qs(sent[3].body.decode()) == {"otp": ["654321"], "tx": ["TXnew999"]}
    assert json.loads(sent[5].body)["name"] == other.full_name
    assert (
        urls[6] == "http://127.0.0.1:9001/api/dossiers/4242"
        and sent[6].headers["X-CSRF-Token"] == "NEWcsrf99"
    )
    assert urls[8] == "http://127.0.0.1:9001/pay?code=HS-9&sig=ffff0000aaaa1111"


def test_a_person_s_rules_extract_ignore_and_keep_literals(tmp_path: Path) -> None:
    rec = read_recording(portal_recording(tmp_path))
    rules = FlowRules(
        extract=[Extract(name="ma_ho_so", source="html", expr="p", regex=r"Hồ sơ (\S+)")],
        ignore=[r"/thong-ke"],
        literal=["kind", "tx"],
    )
    flow = FlowCompiler(rec, rules).compile()
    reqs = _requests(flow)
    assert not any("thong-ke" in r.url for r in reqs)
    otp = reqs[3]
    assert otp.form["tx"] == "TX12345678"  # kept as recorded
    pay = reqs[-1]
    receipt = reqs[-2]
    assert "${ma_ho_so}" in pay.url and receipt.extract[0].name == "ma_ho_so"


def test_no_secret_or_identity_of_the_recording_is_left_in_the_flow(tmp_path: Path) -> None:
    compile_recordings(portal_recording(tmp_path).parent, tmp_path / "flows")
    text = (tmp_path / "flows" / "dich-vu-mau.flow.yaml").read_text(encoding="utf-8")
    for value in (WHO.cccd, WHO.full_name, WHO.password, BASE, IDP):
        assert value not in text


def test_a_page_belongs_to_the_step_whose_page_it_is(tmp_path: Path) -> None:
    """The OTP's click loads the home page; by time it is the otp step's, by the profile's step_pages
    it is find_service's (as a journey blames a failure there)."""
    folder = portal_recording(tmp_path)
    meta = json.loads((folder / "steps.json").read_text())
    meta["steps"][2]["start"] += 0.1  # find_service begins after the home page loaded
    (folder / "steps.json").write_text(json.dumps(meta))
    by_time = FlowCompiler(read_recording(folder)).compile()
    assert [s.step for s in by_time.steps][:3] == ["login", "otp", "submit"]
    owners = FlowCompiler(
        read_recording(folder), step_pages=lambda p: {"find_service"} if p == "/" else set()
    )
    flow = owners.compile()
    assert [(s.step, len(s.requests)) for s in flow.steps][:3] == [
        ("login", 2),
        ("otp", 2),
        ("find_service", 1),
    ]


def test_a_token_found_by_its_boundaries_may_hold_other_characters_next_time() -> None:
    """A draft id recorded as letters and digits comes back with '-' or '_' (URL-safe base64): the
    extraction takes the token up to its boundary, not only the characters it was recorded with."""
    from dvcwatch.core.flows.correlate import _boundary_rule
    from dvcwatch.core.flows.pages import AnswerView

    rule = _boundary_rule(
        "draft", "header", "Location", "http://h:1/nop-ho-so/x/8UObD20oXxYQ/thong-tin", "8UObD20oXxYQ"
    )
    later = AnswerView(
        302, {"Location": "/nop-ho-so/x/q6x-bD7_2o4-/thong-tin"}, b"", "http://h:2/nop-ho-so/x"
    )
    assert later.extract(rule) == "q6x-bD7_2o4-"


def test_a_har_without_step_marks_takes_its_steps_from_the_profile_s_pages(tmp_path: Path) -> None:
    """A HAR saved from a browser's DevTools has no steps.json: the profile's step_pages say which
    page starts which step."""
    folder = portal_recording(tmp_path)
    (folder / "steps.json").unlink()
    pages = {"/login": {"login"}, "/otp": {"otp"}, "/": {"find_service"}, "/ho-so/HS-2026-000123": {"submit"}}
    flow = FlowCompiler(read_recording(folder), step_pages=lambda p: pages.get(p, set())).compile()
    assert [(s.step, len(s.requests)) for s in flow.steps] == [
        ("login", 2),
        ("otp", 2),
        ("find_service", 3),
        ("submit", 3),
    ]


def test_a_password_typed_into_a_password_box_never_reaches_the_flow(tmp_path: Path) -> None:
    """A HAR saved from DevTools holds the password the person typed: the field of a password box on
    the page before becomes ${secret.password} all the same."""
    folder = portal_recording(tmp_path)
    har = folder / "recording.har"
    har.write_text(har.read_text().replace("password=${secret.password}", "password=S3cret%21pass"))
    (folder / "steps.json").unlink()
    flow = FlowCompiler(read_recording(folder)).compile()
    login = flow.steps[0].requests[1]
    assert login.form["password"] == "${secret.password}"
    assert "S3cret" not in flow.model_dump_json()
