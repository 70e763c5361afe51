"""Plain-http probes take the lighter client (probes/checks/lean_http.py): each way a server may frame
its answer is read as aiohttp reads it, and the prober's politeness and origin rules still hold."""

from __future__ import annotations

import asyncio
import gzip
import itertools
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from dvcwatch.core.politeness import Politeness, PolitenessConfig
from probes.config import load_config_text
from probes.runner import new_session, run_probe

PAGE = b"<html><body><h1 data-testid='service-name'>\xc4\x90\xc4\x83ng k\xc3\xbd khai sinh</h1></body></html>"


def _answer(head: str, body: bytes) -> bytes:
    """An HTTP/1.1 answer: status and header lines (each ending in CRLF), a blank line, the body."""
    return f"HTTP/1.1 {head}\r\n".encode() + body


def _chunks(*parts: bytes) -> bytes:
    return b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in parts) + b"0\r\n\r\n"


ZIPPED = gzip.compress(PAGE)
ANSWERS: dict[str, bytes] = {
    # chunked, with a chunk whose data ends as the last chunk does
    "/chunked": _answer(
        "200 OK\r\nContent-Type: text/html; charset=utf-8\r\nTransfer-Encoding: chunked\r\n",
        _chunks(PAGE[:20], b"x0\r\n", PAGE[20:]),
    ),
    "/gzip": _answer(f"200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {len(ZIPPED)}\r\n", ZIPPED),
    # sent with Content-Length and the connection kept open: the answer is whole without a close
    "/keepalive": _answer(f"200 OK\r\nContent-Length: {len(PAGE)}\r\n", PAGE),
    "/short": _answer(f"200 OK\r\nContent-Length: {len(PAGE) + 50}\r\n", PAGE),
    "/latin": _answer("200 OK\r\nContent-Type: text/html; charset=windows-1252\r\n", "café".encode("cp1252")),
}


@pytest.fixture
async def raw_server() -> AsyncIterator[str]:
    """Answers each path with fixed bytes; closes after them, except /keepalive, held open."""
    held: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        path = request.split(b" ", 2)[1].decode()
        writer.write(ANSWERS[path])
        await writer.drain()
        if path == "/keepalive":
            held.append(writer)
            return
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}"
        for w in held:
            w.close()


def target(url: str, **extra: object):  # type: ignore[no-untyped-def]
    lines = ["  - name: t", f"    url: '{url}'", "    interval: 5", "    timeout: 2", "    kind: http"]
    lines += [f"    {k}: {v}" for k, v in extra.items()]
    return load_config_text("targets:\n" + "\n".join(lines) + "\n").targets[0]


async def probe(t, politeness: Politeness | None = None):  # type: ignore[no-untyped-def]
    async with new_session(politeness=politeness) as session:
        return await run_probe(t, session)


@pytest.mark.parametrize("path", ["/chunked", "/gzip", "/keepalive"])
async def test_each_framing_is_read_whole(raw_server: str, path: str) -> None:
    r = await probe(target(raw_server + path, must_contain="['Đăng ký khai sinh']"))
    assert r.success, r.observation.failure
    assert r.observation.content_match is True and r.observation.status_code == 200
    assert {"connect", "ttfb", "transfer", "total"} <= set(r.phases)


async def test_a_body_shorter_than_its_length_is_a_cut_body(raw_server: str) -> None:
    r = await probe(target(raw_server + "/short"))
    assert not r.success and r.observation.failure == "connection reset during the body"


async def test_the_declared_charset_decodes_the_page(raw_server: str) -> None:
    r = await probe(target(raw_server + "/latin", must_contain="['café']"))
    assert r.success, r.observation.failure


@pytest.fixture
async def portal(serve_app) -> AsyncIterator[tuple[str, list[tuple[float, str]]]]:  # type: ignore[no-untyped-def]
    seen: list[tuple[float, str]] = []
    busy = {"left": 1}

    async def page(request: web.Request) -> web.Response:
        seen.append((time.monotonic(), request.headers.get("User-Agent", "")))
        if request.path == "/busy" and busy["left"]:
            busy["left"] -= 1
            return web.Response(status=503, headers={"Retry-After": "1"})
        if request.path == "/away":
            raise web.HTTPFound(request.query["to"])
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", page)
    yield await serve_app(app), seen


async def test_politeness_holds_on_the_lighter_path(portal: tuple[str, list]) -> None:
    url, seen = portal
    polite = Politeness(PolitenessConfig(requests_per_second=5, limit_loopback=True, contact="it@x.example"))
    async with new_session(politeness=polite) as s:
        for _ in range(2):
            assert (await run_probe(target(url + "/"), s)).success
        assert (await run_probe(target(url + "/busy"), s)).observation.status_code == 503
        assert (await run_probe(target(url + "/busy"), s)).success
    assert all("contact: it@x.example" in ua for _, ua in seen)
    gaps = [b - a for (a, _), (b, _) in itertools.pairwise(seen)]
    assert all(g >= 0.15 for g in gaps[:2]), gaps  # 5 per second, burst 1
    assert gaps[2] >= 0.9, "the request after a 503 with Retry-After: 1 waited about a second"


async def test_a_request_with_secrets_is_not_redirected_to_another_origin(portal: tuple[str, list]) -> None:
    url, seen = portal
    other = url.replace("127.0.0.1", "localhost")
    t = target(f"{url}/away?to={other}/ok", headers="{Authorization: 'Bearer s3cret'}")
    r = await probe(t)
    assert not r.success and "redirect to another host refused" in r.observation.failure
    assert len(seen) == 1
    same = await probe(target(f"{url}/away?to=/ok", headers="{Authorization: 'Bearer s3cret'}"))
    assert same.success and len(seen) == 3
