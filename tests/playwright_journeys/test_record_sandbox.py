"""`shop --record DIR` on the sandbox: each service's page and XHR exchange as a HAR, in order, with
bodies and timings; assets apart; the step boundaries and the citizen beside it; no secret anywhere."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from urllib.parse import quote_plus

import pytest

from dvcwatch.commands.cli import main
from dvcwatch.core.identities import citizen

pytestmark = pytest.mark.browser
SERVICES = ["cap-doi-cccd", "khai-bao-tam-vang"]  # documents and a fee; no fee


def test_a_recording_holds_each_journey_in_order_without_secrets(sandbox, tmp_path: Path) -> None:
    rec = tmp_path / "rec"
    argv = [
        "shop",
        "--target",
        sandbox.url,
        "--out",
        str(tmp_path / "out"),
        "--record",
        str(rec),
        "--parallel",
        "2",
    ]
    for s in SERVICES:
        argv += ["--service", s]
    assert main(argv) == 0
    index = json.loads((rec / "recording.json").read_text(encoding="utf-8"))
    assert index["origins"] == {"base": sandbox.url} and index["environment"] == "sandbox"
    for service in SERVICES:
        folder = rec / service
        meta = json.loads((folder / "steps.json").read_text(encoding="utf-8"))
        who = citizen(42, meta["citizen"]["index"])
        assert meta["citizen"]["cccd"] == who.cccd and "password" not in meta["citizen"]
        marks = [m["step"] for m in meta["steps"]]
        assert marks[:3] == ["login", "otp", "find_service"] and marks[-1] == "result"
        assert [m["start"] for m in meta["steps"]] == sorted(m["start"] for m in meta["steps"])

        entries = json.loads((folder / "recording.har").read_text(encoding="utf-8"))["log"]["entries"]
        starts = [datetime.fromisoformat(e["startedDateTime"].replace("Z", "+00:00")) for e in entries]
        assert starts == sorted(starts)
        assert all(e["request"]["url"].startswith(sandbox.url) for e in entries)
        assert not any("/static/" in e["request"]["url"] for e in entries), "assets are kept apart"
        assets = json.loads((folder / "assets.har").read_text(encoding="utf-8"))["log"]["entries"]
        assert assets and all("/static/" in e["request"]["url"] for e in assets)
        posts = {
            e["request"]["url"].removeprefix(sandbox.url).split("?")[0]: e
            for e in entries
            if e["request"]["method"] == "POST"
        }
        assert "password=${secret.password}" in posts["/dang-nhap"]["request"]["postData"]["text"]
        assert "otp=${otp}" in posts["/dang-nhap/otp"]["request"]["postData"]["text"]
        assert all(e["time"] >= 0 and "timings" in e for e in entries)
        pages = [e for e in entries if e["response"]["status"] == 200]
        assert pages and all("<html" in e["response"]["content"].get("text", "").lower() for e in pages)
        for path in folder.iterdir():
            text = path.read_text(encoding="utf-8")
            assert who.password not in text and quote_plus(who.password) not in text, path
