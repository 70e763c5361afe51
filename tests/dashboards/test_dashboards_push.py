"""`dvcwatch dashboards push` against a stand-in Grafana HTTP API on loopback (Grafana itself cannot
be installed here): the folder, every dashboard, the token only in the Authorization header."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dvcwatch.commands.cli import main

TOKEN = "glsa_secret_test_token_123"


class FakeGrafana(ThreadingHTTPServer):
    def __init__(self, status: int = 200) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.status = status
        self.requests: list[tuple[str, str, str | None, dict | None]] = []
        self.folders: set[str] = set()


class _Handler(BaseHTTPRequestHandler):
    server: FakeGrafana

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _record(self) -> dict | None:
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n)) if n else None
        self.server.requests.append((self.command, self.path, self.headers.get("Authorization"), body))
        return body

    def do_GET(self) -> None:
        self._record()
        if self.server.status != 200:
            self._answer(self.server.status, {"message": "invalid API key"})
        elif self.path.startswith("/api/folders/") and self.path.rsplit("/", 1)[1] in self.server.folders:
            self._answer(200, {"uid": self.path.rsplit("/", 1)[1]})
        else:
            self._answer(404, {"message": "folder not found"})

    def do_POST(self) -> None:
        body = self._record() or {}
        if self.path == "/api/folders":
            self.server.folders.add(body["uid"])
            self._answer(200, {"uid": body["uid"], "title": body["title"]})
        elif self.path == "/api/dashboards/db":
            uid = body["dashboard"]["uid"]
            self._answer(200, {"status": "success", "uid": uid, "url": f"/d/{uid}/x"})
        else:
            self._answer(404, {"message": "not found"})


@pytest.fixture
def grafana(request: pytest.FixtureRequest) -> Iterator[FakeGrafana]:
    server = FakeGrafana(getattr(request, "param", 200))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _url(server: FakeGrafana) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_push_creates_the_folder_and_every_dashboard(
    grafana: FakeGrafana, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DVCWATCH_GRAFANA_TOKEN", TOKEN)
    assert main(["dashboards", "push", "--url", _url(grafana)]) == 0
    out = capsys.readouterr()
    assert TOKEN not in out.out + out.err
    assert out.out.count("pushed /d/") == 3
    assert all(auth == f"Bearer {TOKEN}" for _, _, auth, _ in grafana.requests)
    posted = [body for method, path, _, body in grafana.requests if path == "/api/dashboards/db"]
    assert {b["dashboard"]["uid"] for b in posted} == {"dvcwatch-overview", "dvcwatch-sre", "dvcwatch-load"}
    assert all(b["folderUid"] == "dvcwatch" and b["overwrite"] for b in posted)
    assert ("POST", "/api/folders") in {(m, p) for m, p, _, _ in grafana.requests}


@pytest.mark.parametrize("grafana", [401], indirect=True)
def test_a_refused_token_is_one_line_without_the_token(
    grafana: FakeGrafana, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    assert main(["dashboards", "push", "--url", _url(grafana), "--token-file", str(token_file)]) == 1
    err = capsys.readouterr().err
    assert "401" in err and TOKEN not in err
    assert len(err.strip().splitlines()) == 1


def test_no_token_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DVCWATCH_GRAFANA_TOKEN", raising=False)
    assert main(["dashboards", "push", "--url", "http://127.0.0.1:9"]) == 2
    assert "DVCWATCH_GRAFANA_TOKEN" in capsys.readouterr().err
