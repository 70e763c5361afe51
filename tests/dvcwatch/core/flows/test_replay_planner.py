"""The sans-IO replay: templates filled from bindings and extractions, answers judged."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from dvcwatch.core.credentials import Secret
from dvcwatch.core.flows import Answer, Bindings, Replay, load_flow
from dvcwatch.core.flows.replay import citizen_values
from dvcwatch.core.identities import citizen

EXAMPLE = Path(__file__).parents[1] / "data" / "flows" / "example-service.flow.yaml"
HTML = {"content-type": "text/html; charset=utf-8"}


def _bindings(otps=None):
    c = citizen(7, 3)
    codes = iter(otps or ["123456"])
    return c, Bindings(
        base="http://127.0.0.1:9/",
        citizen=citizen_values(c),
        username=c.cccd,
        password=Secret(c.password),
        otp=lambda: next(codes),
    )


def _walk(replay, answers):
    sent = []
    for prepared in replay:
        sent.append(prepared)
        status, headers, body = answers[len(sent) - 1]
        reason = replay.answer(prepared, Answer(status, headers, body, prepared.url))
        if reason:
            return sent, reason
    return sent, None


GOOD = [
    (200, HTML, b'<form><input type="hidden" name="csrf" value="tok-1"></form>'),
    (303, {"Location": "http://127.0.0.1:9/dang-nhap/otp?next=%2F"}, b""),
    (303, {"Location": "/"}, b""),
    (302, {"Location": "/nop-ho-so/example-service/D-42/thong-tin"}, b""),
    (303, {"Location": "/nop-ho-so/example-service/D-42/giay-to"}, b""),
    (303, {"Location": "/nop-ho-so/example-service/D-42/xac-nhan"}, b""),
    (201, {"content-type": "application/json"}, json.dumps({"data": {"code": "HS-2026-7"}}).encode()),
    (200, HTML, b"<main>ok</main>"),
]


def test_a_good_replay_fills_every_template():
    c, bindings = _bindings()
    sent, reason = _walk(Replay(load_flow(EXAMPLE), bindings), GOOD)
    assert reason is None and len(sent) == 8
    login = parse_qs(sent[1].body.decode())
    assert login == {"csrf": ["tok-1"], "cccd": [c.cccd], "password": [c.password]}
    assert sent[2].url == "http://127.0.0.1:9/dang-nhap/otp?next=%2F"
    assert parse_qs(sent[2].body.decode()) == {"otp": ["123456"]}
    assert sent[4].url.endswith("/nop-ho-so/example-service/D-42/thong-tin")
    assert parse_qs(sent[4].body.decode())["ho_ten"] == [c.full_name]
    assert sent[5].headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b"%PDF-1.4" in sent[5].body and b'filename="cccd.pdf"' in sent[5].body
    assert json.loads(sent[6].body) == {"draft": "D-42", "declaration": True}
    assert sent[7].url == "http://127.0.0.1:9/ho-so/HS-2026-7"
    assert [p.step for p in sent] == ["login", "login", "otp", "form", "form", "upload", "submit", "tracking"]
    assert sent[1].think_seconds == 2.5


def test_a_missing_extraction_ends_the_replay():
    _, bindings = _bindings()
    answers = [(200, HTML, b"<form></form>"), *GOOD[1:]]
    sent, reason = _walk(Replay(load_flow(EXAMPLE), bindings), answers)
    assert reason == "no ${csrf} in answer" and len(sent) == 1


def test_an_unexpected_status_ends_the_replay():
    _, bindings = _bindings()
    answers = [GOOD[0], (500, HTML, b"<p>oops</p>")]
    replay = Replay(load_flow(EXAMPLE), bindings)
    _sent, reason = _walk(replay, answers)
    assert reason == "status 500, recorded 302, 303"
    assert replay.next_request() is None


@pytest.mark.parametrize(
    ("selector", "page"),
    [
        ("div.qua-tai", b'<div class="qua-tai">Qu\xc3\xa1 t\xe1\xba\xa3i</div>'),
        ("text=Hệ thống đang bận", "<p>Hệ thống   đang bận, thử lại sau</p>".encode()),
        ('[data-testid="busy"]', b'<div data-testid="busy">x</div>'),
        ('section:has-text("bận")', "<section>đang bận</section>".encode()),
    ],
)
def test_busy_banners_are_found_with_the_profiles_selectors(selector, page):
    _, bindings = _bindings()
    replay = Replay(load_flow(EXAMPLE), bindings, busy_selectors=[selector], error_selectors=["div.loi"])
    prepared = replay.next_request()
    reason = replay.answer(prepared, Answer(200, HTML, page, prepared.url))
    assert reason == f"busy banner: {selector}"


def test_a_hidden_error_element_is_not_an_error_page():
    _, bindings = _bindings()
    replay = Replay(load_flow(EXAMPLE), bindings, error_selectors=["div.loi, section.loi-he-thong"])
    prepared = replay.next_request()
    page = b'<div class="loi" hidden>x</div><input type="hidden" name="csrf" value="t">'
    assert replay.answer(prepared, Answer(200, HTML, page, prepared.url)) is None
    replay = Replay(load_flow(EXAMPLE), bindings, error_selectors=["div.loi, section.loi-he-thong"])
    prepared = replay.next_request()
    page = b'<section class="loi-he-thong">L\xe1\xbb\x97i</section>'
    assert replay.answer(prepared, Answer(500, HTML, page, prepared.url)) == (
        "error page: div.loi, section.loi-he-thong"
    )


def test_the_secret_never_shows_in_a_prepared_requests_repr():
    _, bindings = _bindings()
    assert "Tk@" not in repr(bindings)


def test_a_busy_message_in_a_script_or_hidden_element_is_not_a_busy_page():
    """The other portal's tracking page carries 'Hệ thống đang bận' in its script, for a failed fetch."""
    _, bindings = _bindings()
    page = (
        "<main>Tra cứu</main><script>out.textContent = 'Hệ thống đang bận';</script>"
        '<div hidden>Hệ thống đang bận</div><input type="hidden" name="csrf" value="t">'
    ).encode()
    replay = Replay(load_flow(EXAMPLE), bindings, busy_selectors=["text=Hệ thống đang bận"])
    prepared = replay.next_request()
    assert replay.answer(prepared, Answer(200, HTML, page, prepared.url)) is None


def test_replay_tells_pages_as_load_does():
    """Replay and load share the core's matcher: same verdict on pages the old matchers disagreed on."""
    from dvcwatch.core.page_markers import PageTrouble
    from dvcwatch.core.profile import Selectors

    _, bindings = _bindings()
    pages = {
        "text=HỆ THỐNG ĐANG BẬN": "<main><p>Hệ thống đang bận</p></main>",  # case of text=
        'text="Hệ thống"': "<main><p>Hệ thống đang bận</p></main>",  # quoted: exact, not a substring
        "div.qua-tai": '<main>ok</main><div class="qua-tai"></div>',  # an empty placeholder
    }
    csrf = '<input type="hidden" name="csrf" value="t">'
    for selector, page in pages.items():
        page += csrf
        load = PageTrouble.of(Selectors(error_page="", error_banner=selector)).reason(page.encode())
        replay = Replay(load_flow(EXAMPLE), bindings, busy_selectors=[selector])
        prepared = replay.next_request()
        assert replay.answer(prepared, Answer(200, HTML, page.encode(), prepared.url)) == load


def test_an_unreadable_selector_refuses_the_replay():
    _, bindings = _bindings()
    with pytest.raises(ValueError, match="a:visible"):
        Replay(load_flow(EXAMPLE), bindings, error_selectors=["a:visible"])


def test_a_flow_is_planned_once_and_a_changed_copy_gets_its_own_plan():
    """Replays of one Flow share its plan (parsed templates); a copy with another URL is not replayed
    with the first one's, and a flow's plan goes with it."""
    import gc

    from dvcwatch.core.flows import replay as replay_module

    _, bindings = _bindings()
    flow = load_flow(EXAMPLE)
    assert Replay(flow, bindings)._plan is Replay(flow, bindings)._plan
    first = flow.steps[0].requests[0]
    moved = first.model_copy(update={"url": "${base}/login-moi", "headers": {"X-Cccd": "${citizen.cccd}"}})
    step = flow.steps[0].model_copy(update={"requests": [moved, *flow.steps[0].requests[1:]]})
    copy = flow.model_copy(update={"steps": [step, *flow.steps[1:]]})
    prepared = Replay(copy, bindings).next_request()
    assert prepared.url == "http://127.0.0.1:9/login-moi"
    assert prepared.headers == {"X-Cccd": bindings.citizen["cccd"]}
    assert Replay(flow, bindings).next_request().url == "http://127.0.0.1:9/dang-nhap"
    key = id(copy)
    assert key in replay_module._PLANS
    del copy, prepared
    gc.collect()
    assert key not in replay_module._PLANS


def test_a_citizens_own_urls_are_rendered_once_for_all_its_visits_and_extracted_ones_every_time():
    flow = load_flow(EXAMPLE)
    _, bindings = _bindings(["123456", "654321"])
    first, reason = _walk(Replay(flow, bindings), GOOD)
    assert reason is None
    kept = dict(bindings.rendered)
    assert kept and all("${" not in url and url.startswith("http://127.0.0.1:9") for url in kept.values())
    assert not any("D-42" in url for url in kept.values())  # from an answer: never kept
    # the next visit's answers give another dossier: its URLs follow them, the kept ones are reused
    other = [
        (s, {**h, "Location": h["Location"].replace("D-42", "D-43")} if "Location" in h else h, b)
        for s, h, b in GOOD
    ]
    second, reason = _walk(Replay(flow, bindings), other)
    assert reason is None and bindings.rendered == kept
    assert [p.url for p in second] == [p.url.replace("D-42", "D-43") for p in first]


def test_headers_of_a_citizens_own_values_are_rendered_once_and_handed_out_as_copies():
    """A compiled flow keeps the recording's Origin and Referer on `${base}`: worked out once per
    citizen, not per request; a header with an extracted value is still rendered every time."""
    _, bindings = _bindings()
    flow = load_flow(EXAMPLE)
    first = flow.steps[0].requests[0]
    own = {"Origin": "${base}", "Referer": "${base}/dich-vu/{x}", "Accept": "text/html"}
    moved = first.model_copy(update={"headers": own})
    step = flow.steps[0].model_copy(update={"requests": [moved, *flow.steps[0].requests[1:]]})
    copy = flow.model_copy(update={"steps": [step, *flow.steps[1:]]})
    sent = Replay(copy, bindings).next_request()
    wanted = {
        "Origin": "http://127.0.0.1:9",
        "Referer": "http://127.0.0.1:9/dich-vu/{x}",
        "Accept": "text/html",
    }
    assert sent.headers == wanted and list(bindings.rendered_headers.values()) == [wanted]
    sent.headers["Content-Type"] = "text/plain"  # a caller adds to its own copy
    assert Replay(copy, bindings).next_request().headers == wanted
    assert len(bindings.rendered_headers) == 1
