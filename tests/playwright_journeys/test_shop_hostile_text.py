"""Portal text is shown, never interpreted: a portal whose pages carry Rich markup and HTML goes through
a real `dvcwatch shop` process; the sweep writes its files and the console shows the text as written,
once or in a monitoring loop (`--every`) that keeps going."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

pytestmark = pytest.mark.browser

HOSTILE = (
    "Lỗi [/] hệ thống [link=http://evil.invalid/x]bấm vào đây[/link] [lowercase] [bold red]đỏ "
    "<script>alert(1)</script> <img src=x onerror=alert(2)>"
)
SERVICES = ["dang-ky-khai-sinh", "cap-ho-chieu"]


def hostile_app() -> web.Application:
    """Every page is a 503 whose text the citizen would read: markup for Rich, tags for a browser."""
    import html

    async def page(request: web.Request) -> web.Response:
        body = f"<html><body><main><p class='error'>{html.escape(HOSTILE)}</p></main></body></html>"
        return web.Response(status=503, text=body, content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", page)
    return app


async def shop(url: str, out: Path, *extra: str) -> tuple[int, str]:
    argv = [sys.executable, "-m", "dvcwatch", "shop", "--target", url, "--out", str(out)]
    for s in SERVICES:
        argv += ["--service", s]
    env = {**os.environ, "COLUMNS": "400"}  # a wide console: a table cell must not wrap the text
    env["DVCWATCH_SHOP_MIN_EVERY"] = "1s"  # scheduled sweeps back to back, not a minute apart
    proc = await asyncio.create_subprocess_exec(
        *argv, *extra, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(proc.communicate(), timeout=240)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


def assert_shown_literally(err: str) -> None:
    assert "MarkupError" not in err and "Traceback" not in err, err
    assert "[/] hệ thống [link=http://evil.invalid/x]bấm vào đây[/link] [lowercase]" in err, err


def assert_files_escape(out: Path) -> None:
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert [r["service"] for r in data["results"]] == SERVICES
    assert {r["verdict"] for r in data["results"]} == {"fail"}
    assert HOSTILE in data["results"][0]["failure"]["seen"]
    html = (out / "scorecard.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert "[link=http://evil.invalid/x]" in html


async def test_markup_in_portal_text_is_printed_as_written_and_the_files_are_written(
    serve_app: Callable[[object], Awaitable[str]], tmp_path: Path
) -> None:
    url = await serve_app(hostile_app())
    code, err = await shop(url, tmp_path / "out", "--parallel", "2")
    assert code == 1, err
    assert_shown_literally(err)
    assert_files_escape(tmp_path / "out")


async def test_markup_in_portal_text_does_not_end_the_monitoring_loop(
    serve_app: Callable[[object], Awaitable[str]], tmp_path: Path
) -> None:
    url = await serve_app(hostile_app())
    code, err = await shop(url, tmp_path / "mon", "--every", "1s", "--max-runs", "2", "--parallel", "2")
    assert code == 1, err
    runs = sorted((tmp_path / "mon").iterdir())
    assert len(runs) == 2, err
    for run in runs:
        assert_files_escape(run)
    assert err.count("[lowercase]") >= 2, err
    assert_shown_literally(err)


ESCAPES = "\x1b]52;c;ZXZpbA==\x07 \x1b]0;pwned\x1b\\ \x1b[2J\x9b31m Lỗi hệ thống \x07\x08 bảo trì"


def escaping_app() -> web.Application:
    """Every page is a 503 whose text carries terminal escapes: OSC 52 (clipboard), OSC 0 (window
    title), CSI 2J (clear screen), an 8-bit CSI, a bell and a backspace."""

    async def page(request: web.Request) -> web.Response:
        body = f"<html><body><main><p class='error'>{ESCAPES}</p></main></body></html>"
        return web.Response(status=503, text=body, content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", page)
    return app


async def test_terminal_escapes_in_portal_text_never_reach_the_console(
    serve_app: Callable[[object], Awaitable[str]], tmp_path: Path
) -> None:
    """Issue 31.8: the summary showed the portal's OSC 52, OSC 0 and CSI 2J to the terminal intact."""
    url = await serve_app(escaping_app())
    code, err = await shop(url, tmp_path / "out", "--parallel", "2")
    assert code == 1, err
    assert "Lỗi hệ thống" in err and "bảo trì" in err, err  # what the citizen read is still shown
    controls = sorted({c for c in err if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F})
    assert controls == [], f"{controls!r} in {err!r}"
    assert "52;c;" not in err and "pwned" not in err, err
