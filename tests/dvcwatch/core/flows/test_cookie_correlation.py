"""Double-submit anti-forgery (Angular's X-XSRF-TOKEN, Laravel's, Django's X-CSRFToken): a script copies a
cookie the portal set into a request header. The token is in no page, so only the cookie can say where
it came from; a recording compiled without that correlation replays the stale token and is refused."""

from __future__ import annotations

import json
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from har_builder import BASE, WHO, entry, write
from replay_client import run

from dvcwatch.core.flows import Bindings, Replay, load_flow
from dvcwatch.core.flows.compile import FlowCompiler, compile_recordings
from dvcwatch.core.flows.har import read_recording
from dvcwatch.core.flows.model import Extract
from dvcwatch.core.flows.pages import AnswerView
from dvcwatch.core.flows.replay import citizen_values

RECORDED = "REC0rded+tok/9=="  # what a URL-encoding framework (Laravel) sets as REC0rded%2Btok%2F9%3D%3D
SESSION = "s3ss10nRECORDED"


def _recording(directory: Path, *, header_value: str = RECORDED) -> Path:
    cookies = [f"XSRF-TOKEN={quote(RECORDED, safe='')}; Path=/", f"SESSION={SESSION}; Path=/; HttpOnly"]
    entries = [
        entry(0.0, "GET", f"{BASE}/dich-vu/mau", body="<main>Dịch vụ mẫu</main>", set_cookies=cookies),
        entry(
            1.0,
            "POST",
            f"{BASE}/api/ho-so",
            201,
            ctype="application/json",
            json_body={"ten": WHO.full_name},
            headers={"X-XSRF-TOKEN": header_value},
            body=json.dumps({"ma_ho_so": "HS-2026-000777"}),
            resource="fetch",
        ),
        entry(
            2.0,
            "GET",
            f"{BASE}/api/ho-so/HS-2026-000777",
            ctype="application/json",
            headers={"X-XSRF-TOKEN": header_value},
            body=json.dumps({"trang_thai": "da_tiep_nhan"}),
            resource="fetch",
        ),
    ]
    return write(
        directory, "dich-vu-mau", entries, [("find_service", -0.1), ("submit", 0.9), ("tracking", 1.9)]
    )


def test_a_header_copied_from_a_cookie_is_extracted_from_the_answer_that_set_it(tmp_path: Path) -> None:
    flow = FlowCompiler(read_recording(_recording(tmp_path))).compile()
    page, create, track = [r for s in flow.steps for r in s.requests]
    (rule,) = page.extract
    assert (rule.source, rule.expr, rule.attr) == ("cookie", "XSRF-TOKEN", None)
    assert create.headers["X-XSRF-TOKEN"] == track.headers["X-XSRF-TOKEN"] == "${" + rule.name + "}"
    written = json.dumps(flow.model_dump())
    assert SESSION not in written and RECORDED not in written and quote(RECORDED, safe="") not in written


def test_a_value_sent_as_set_is_taken_raw(tmp_path: Path) -> None:
    flow = FlowCompiler(read_recording(_recording(tmp_path, header_value=quote(RECORDED, safe="")))).compile()
    (rule,) = flow.steps[0].requests[0].extract
    assert (rule.source, rule.attr) == ("cookie", "raw")


def test_every_set_cookie_is_read_however_the_headers_come() -> None:
    view = AnswerView(
        200,
        [
            ("Set-Cookie", "a=1; Path=/"),
            ("set-cookie", 'b="two"\nc=x%3Dy; HttpOnly'),
            ("Content-Type", "text/html"),
        ],
        b"",
        "http://127.0.0.1/",
    )
    assert view.cookies == {"a": "1", "b": "two", "c": "x%3Dy"}
    assert view.extract(Extract(name="c", source="cookie", expr="c")) == "x=y"
    assert view.extract(Extract(name="c", source="cookie", expr="c", attr="raw")) == "x%3Dy"
    assert view.extract(Extract(name="d", source="cookie", expr="d")) is None
    with pytest.raises(ValueError, match="attr"):
        Extract(name="c", source="cookie", expr="c", attr="value")


class _DoubleSubmitPortal(BaseHTTPRequestHandler):
    """Each visit gets its own token in a cookie; an API call must send it back in X-XSRF-TOKEN."""

    issued: set[str] = set()
    refused: list[str] = []

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self, status: int, body: dict[str, str], cookies: list[str] = ()) -> None:  # type: ignore[assignment]
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if self.path.startswith("/api/") else "text/html")
        for c in cookies:
            self.send_header("Set-Cookie", c)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _checked(self) -> bool:
        jar = SimpleCookie(self.headers.get("Cookie", ""))
        cookie = unquote(jar["XSRF-TOKEN"].value) if "XSRF-TOKEN" in jar else None
        sent = self.headers.get("X-XSRF-TOKEN")
        if cookie is None or cookie not in self.issued or sent != cookie:
            self.refused.append(self.path)
            self._reply(419, {"loi": "token"})
            return False
        return True

    def do_GET(self) -> None:
        if self.path == "/dich-vu/mau":
            token = secrets.token_urlsafe(12) + "+/=="
            self.issued.add(token)
            self._reply(200, {}, [f"XSRF-TOKEN={quote(token, safe='')}; Path=/", "SESSION=x; Path=/"])
        elif self.path.startswith("/api/ho-so/") and self._checked():
            self._reply(200, {"trang_thai": "da_tiep_nhan"})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self._checked():
            self._reply(201, {"ma_ho_so": "HS-2026-000888"})


@pytest.fixture
def portal() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _DoubleSubmitPortal)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_compiled_flow_replays_on_a_double_submit_portal_with_its_new_token(
    tmp_path: Path, portal: str
) -> None:
    compile_recordings(_recording(tmp_path / "rec").parent, tmp_path / "flows")
    flow = load_flow(tmp_path / "flows" / "dich-vu-mau.flow.yaml")
    _DoubleSubmitPortal.refused.clear()
    out = run(Replay(flow, Bindings(base=portal, citizen=citizen_values(WHO))))
    assert out.failure is None and not _DoubleSubmitPortal.refused
    assert out.steps == ["find_service", "submit", "tracking"]
    sent = out.sent[1].headers["X-XSRF-TOKEN"]
    assert sent in _DoubleSubmitPortal.issued and sent != RECORDED


def test_the_portal_refuses_the_recorded_token(portal: str) -> None:
    """What the replay above would meet without the correlation: the stale token is refused."""
    stale = urllib.request.Request(
        f"{portal}/api/ho-so/HS-2026-000777",
        headers={"X-XSRF-TOKEN": RECORDED, "Cookie": f"XSRF-TOKEN={quote(RECORDED, safe='')}"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(stale, timeout=10)
    assert refused.value.code == 419
