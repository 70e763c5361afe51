"""Anti-forgery tokens a script copies into a request header (ASP.NET's `RequestVerificationToken` from
the form's hidden `__RequestVerificationToken`, a `<meta name="csrf-token">`, a token a JSON answer
gave): the header is kept whatever its name, and its value is extracted from the answer it came
from, so a replay sends this visit's token, not the recording's, which the portal refuses."""

from __future__ import annotations

import json
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from har_builder import BASE, WHO, entry, write
from replay_client import run

from dvcwatch.core.flows import Bindings, Replay, load_flow
from dvcwatch.core.flows.compile import DROPPED_HEADERS, FlowCompiler, compile_recordings
from dvcwatch.core.flows.har import read_recording
from dvcwatch.core.flows.replay import citizen_values
from dvcwatch.core.flows.rules import FlowRules

HIDDEN, META, JSON_TOKEN = "CfDJ8Hidden0rec", "metaT0kenRec9", "jsonTok3nRec7"
PAGE = (
    '<html><head><meta name="csrf-token" content="{meta}"></head><body>'
    '<form id="ho-so"><input type="hidden" name="__RequestVerificationToken" value="{hidden}">'
    '<input type="file" name="giay-to"></form></body></html>'
)
BROWSER = {
    "Host": "127.0.0.1:8111",
    "Connection": "keep-alive",
    "Content-Length": "42",
    "Cookie": ".AspNetCore.Antiforgery=cookieRec1",
    "User-Agent": "Mozilla/5.0 (recording browser)",
    "Accept-Encoding": "gzip, deflate, br, zstd",
    "sec-ch-ua": '"Chromium";v="130"',
    "Accept": "application/json, text/plain, */*",
    "Accept-Language": "vi-VN,vi;q=0.9",
    "Cache-Control": "max-age=0",
    "Origin": BASE,
    "Referer": f"{BASE}/ho-so/moi",
    "Sec-Fetch-Mode": "cors",
}


def _recording(directory: Path) -> Path:
    entries = [
        entry(0.0, "GET", f"{BASE}/ho-so/moi", body=PAGE.format(meta=META, hidden=HIDDEN)),
        entry(
            0.5,
            "GET",
            f"{BASE}/api/phien",
            ctype="application/json",
            body=json.dumps({"antiforgery": {"requestToken": JSON_TOKEN}}),
            resource="fetch",
        ),
        entry(
            1.0,
            "POST",
            f"{BASE}/ho-so/nop",
            200,
            ctype="application/json",
            json_body={"ten": WHO.full_name},
            headers={
                **BROWSER,
                "RequestVerificationToken": HIDDEN,
                "Csrf-Token": META,
                "Api-Request-Token": JSON_TOKEN,
                "X-Requested-With": "XMLHttpRequest",
            },
            body=json.dumps({"ma_ho_so": "HS-2026-000999"}),
            resource="fetch",
        ),
    ]
    return write(directory, "dich-vu-mau", entries, [("form", -0.1), ("submit", 0.9)])


def test_a_header_copied_from_a_hidden_input_a_meta_tag_or_json_is_extracted(tmp_path: Path) -> None:
    flow = FlowCompiler(read_recording(_recording(tmp_path))).compile()
    page, session, submit = [r for s in flow.steps for r in s.requests]
    rules = {(e.source, e.expr, e.attr): e.name for e in [*page.extract, *session.extract]}
    hidden = rules[("html", '[name="__RequestVerificationToken"]', "value")]
    meta = rules[("html", '[name="csrf-token"]', "content")]
    from_json = rules[("json", "antiforgery.requestToken", None)]
    assert submit.headers["RequestVerificationToken"] == "${" + hidden + "}"
    assert submit.headers["Csrf-Token"] == "${" + meta + "}"
    assert submit.headers["Api-Request-Token"] == "${" + from_json + "}"
    written = json.dumps(flow.model_dump())
    assert HIDDEN not in written and META not in written and JSON_TOKEN not in written


def test_only_the_documented_headers_are_dropped(tmp_path: Path) -> None:
    flow = FlowCompiler(read_recording(_recording(tmp_path))).compile()
    sent = flow.steps[-1].requests[-1].headers
    assert {k.lower() for k in sent} == {
        "accept",
        "accept-language",
        "cache-control",
        "origin",
        "referer",
        "sec-fetch-mode",
        "requestverificationtoken",
        "csrf-token",
        "api-request-token",
        "x-requested-with",
    }
    gone = {k.lower() for k in BROWSER} - {k.lower() for k in sent}
    assert gone == {k for k in gone if k in DROPPED_HEADERS} | {"sec-ch-ua"}
    assert sent["Origin"] == "${base}" and sent["Referer"] == "${base}/ho-so/moi"
    assert sent["Cache-Control"] == "max-age=0" and sent["Accept-Language"] == "vi-VN,vi;q=0.9"


def test_the_profile_keeps_a_dropped_header_or_drops_a_kept_one(tmp_path: Path) -> None:
    rules = FlowRules(headers=["user-agent"], drop_headers=["Csrf-Token"])
    flow = FlowCompiler(read_recording(_recording(tmp_path)), rules).compile()
    sent = flow.steps[-1].requests[-1].headers
    assert sent["User-Agent"] == BROWSER["User-Agent"]
    assert "Csrf-Token" not in sent and "RequestVerificationToken" in sent


class _AntiForgeryPortal(BaseHTTPRequestHandler):
    """New tokens on each visit; the submission must send this visit's three tokens in its headers,
    and come from the portal's own origin, else 400 (ASP.NET's antiforgery answer)."""

    issued: dict[str, str] = {}
    refused: list[str] = []

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self, status: int, body: str, ctype: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/ho-so/moi":
            self.issued["hidden"], self.issued["meta"] = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
            page = PAGE.format(meta=self.issued["meta"], hidden=self.issued["hidden"])
            self._reply(200, page, "text/html; charset=utf-8")
        elif self.path == "/api/phien":
            self.issued["json"] = secrets.token_urlsafe(12)
            self._reply(
                200, json.dumps({"antiforgery": {"requestToken": self.issued["json"]}}), "application/json"
            )

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        own = f"http://{self.headers.get('Host')}"
        wanted = {
            "RequestVerificationToken": self.issued.get("hidden"),
            "Csrf-Token": self.issued.get("meta"),
            "Api-Request-Token": self.issued.get("json"),
            "Origin": own,
        }
        if any(self.headers.get(k) != v for k, v in wanted.items()):
            self.refused.append(self.path)
            self._reply(400, "Bad Request: antiforgery token", "text/plain")
            return
        self._reply(200, json.dumps({"ma_ho_so": "HS-2026-000999"}), "application/json")


@pytest.fixture
def portal() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AntiForgeryPortal)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_compiled_flow_replays_with_this_visits_tokens(tmp_path: Path, portal: str) -> None:
    compile_recordings(_recording(tmp_path / "rec").parent, tmp_path / "flows")
    flow = load_flow(tmp_path / "flows" / "dich-vu-mau.flow.yaml")
    _AntiForgeryPortal.refused.clear()
    out = run(Replay(flow, Bindings(base=portal, citizen=citizen_values(WHO))))
    assert out.failure is None and not _AntiForgeryPortal.refused
    sent = out.sent[-1].headers
    assert sent["RequestVerificationToken"] == _AntiForgeryPortal.issued["hidden"] != HIDDEN
    assert sent["Csrf-Token"] == _AntiForgeryPortal.issued["meta"] != META
    assert sent["Api-Request-Token"] == _AntiForgeryPortal.issued["json"] != JSON_TOKEN


def test_the_portal_refuses_the_recorded_tokens(portal: str) -> None:
    """What the replay above would meet without the correlation."""
    urllib.request.urlopen(f"{portal}/ho-so/moi", timeout=10).read()
    stale = urllib.request.Request(
        f"{portal}/ho-so/nop",
        data=b"{}",
        headers={
            "RequestVerificationToken": HIDDEN,
            "Csrf-Token": META,
            "Api-Request-Token": JSON_TOKEN,
            "Origin": portal,
        },
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(stale, timeout=10)
    assert refused.value.code == 400


def test_a_page_the_recording_browser_had_cached_is_asked_for_afresh(tmp_path: Path) -> None:
    """The recording browser's cache validators are not a new citizen's: dropped, and the recorded 304
    accepts the 200 a citizen without a cache gets."""
    entries = [
        entry(
            0.0,
            "GET",
            f"{BASE}/ho-so/moi",
            304,
            headers={"If-None-Match": 'W/"abc123"', "If-Modified-Since": "Mon, 30 Nov 2026 00:00:00 GMT"},
        )
    ]
    flow = FlowCompiler(read_recording(write(tmp_path, "dich-vu-mau", entries, [("form", -0.1)]))).compile()
    (page,) = flow.steps[0].requests
    assert page.headers == {} and page.expect_status == [200, 304]
