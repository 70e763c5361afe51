"""A lighter client for the plainest probe: one GET or HEAD over plain `http://`, on a fresh connection.

aiohttp's client costs about twice the CPU of the request itself (measured in one process on uvloop:
~730 us per request against ~340 us for a bare protocol; docs/performance.md, "The prober"), and a
plain probe uses little of what it pays for. This path writes the request, reads the answer until the
server closes (the request says `Connection: close`) and marks the same phases on the probe's timer as
the aiohttp trace does: dns (names only), connect, ttfb, transfer. It keeps the prober's rules: the
politeness turn before the request and `Retry-After` after it, and every socket made by the prober's
own `socket_factory`, so the self-probe guard holds.

It does not follow redirects: a redirect answer is returned as it is and the check hands the next hop
to aiohttp (`probes.checks.http`), counted against the same per-probe bound. HTTPS, other methods,
request bodies and targets needing anything else go through aiohttp from the start.
"""

from __future__ import annotations

import asyncio
import re
import socket
import weakref
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from probes.phases import PhaseTimer
from probes.selfguard import REFUSED, SelfProbeRefused

if TYPE_CHECKING:
    from dvcwatch.core.politeness import Politeness
    from probes.selfguard import OwnAddresses

MAX_HEADER_BYTES = 65_536


class LeanFailure(Exception):
    """The request failed; the message is the probe's failure reason, in `describe_error`'s words."""


@dataclass
class LeanResponse:
    status: int
    headers: CIMultiDict[str]
    body: bytes

    @property
    def charset(self) -> str | None:
        ctype = self.headers.get("Content-Type", "")
        for part in ctype.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip('"').strip()
        return None


_LENGTH_RE = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)")
_CHUNKED_RE = re.compile(rb"\r\ntransfer-encoding:[^\r]*chunked")
_STATUS_RE = re.compile(rb"^HTTP/1\.\d (\d{3})")


class _Reader(asyncio.Protocol):
    """Collects one answer: done when its length is reached, its last chunk is in, or the server
    closes; marks `response` on the timer when the headers are complete."""

    def __init__(self, timer: PhaseTimer, limit: int, head: bool, done: asyncio.Future[bytes]) -> None:
        self.timer = timer
        self.limit = limit
        self.head = head
        self.done = done
        self.buf = bytearray()
        self.body_at = -1
        self.length: int | None = None
        self.chunked = False
        self.transport: asyncio.Transport | None = None
        self.truncated = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.body_at < 0:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            self.body_at = end + 4
            self.timer.mark("response")
            self.timer.close_hop()
            block = bytes(self.buf[:end]).lower()
            status = _STATUS_RE.match(block)
            code = int(status.group(1)) if status else 0
            if self.head or code in (204, 304) or 100 <= code < 200:
                self.length = 0
            elif _CHUNKED_RE.search(block):
                self.chunked = True
            elif m := _LENGTH_RE.search(block):
                self.length = int(m.group(1))
        body = len(self.buf) - self.body_at
        if (
            (self.length is not None and body >= self.length)
            or (self.chunked and self.buf.endswith(b"0\r\n\r\n") and _whole(self.buf[self.body_at :]))
            or len(self.buf) > self.limit
        ):
            self.truncated = len(self.buf) > self.limit
            self._finish()

    def _finish(self) -> None:
        if not self.done.done():
            self.done.set_result(bytes(self.buf))
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(bytes(self.buf))


def _parse(raw: bytes, head: bool, truncated: bool = False) -> LeanResponse:
    end = raw.find(b"\r\n\r\n")
    if end < 0 or end > MAX_HEADER_BYTES:
        raise LeanFailure("connection reset by the server" if not raw else "connection reset during the body")
    lines = raw[:end].decode("latin-1").split("\r\n")
    status_line = lines[0].split(" ", 2)
    if len(status_line) < 2 or not status_line[0].startswith("HTTP/1.") or not status_line[1].isdigit():
        raise LeanFailure("connection error: not an HTTP/1 answer")
    headers: CIMultiDict[str] = CIMultiDict()
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers.add(name.strip(), value.strip())
    body = raw[end + 4 :]
    status = int(status_line[1])
    if head or status in (204, 304) or 100 <= status < 200:
        return LeanResponse(status, headers, b"")
    if truncated:
        pass  # the check reads no further than its limit; what came is what it judges
    elif "chunked" in headers.get("Transfer-Encoding", "").lower():
        body = _unchunk(body)
    elif (length := headers.get("Content-Length")) is not None:
        n = int(length) if length.isdigit() else -1
        if n < 0 or len(body) < n:
            raise LeanFailure("connection reset during the body")
        body = body[:n]
    encoding = headers.get("Content-Encoding", "").strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        try:
            wbits = 47 if encoding != "deflate" else 15
            body = zlib.decompressobj(wbits).decompress(body)
        except zlib.error:
            raise LeanFailure("connection reset during the body") from None
    return LeanResponse(status, headers, body)


def _whole(chunked: bytes | bytearray) -> bool:
    """Whether a chunked body's last chunk is in (its data may itself end in `0\\r\\n\\r\\n`)."""
    try:
        _unchunk(bytes(chunked))
    except LeanFailure:
        return False
    return True


def _unchunk(data: bytes) -> bytes:
    out, pos = bytearray(), 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            raise LeanFailure("connection reset during the body")
        size_text = data[pos:eol].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise LeanFailure("connection reset during the body") from None
        if size == 0:
            return bytes(out)
        start = eol + 2
        if len(data) < start + size:
            raise LeanFailure("connection reset during the body")
        out += data[start : start + size]
        pos = start + size + 2


class LeanClient:
    """One per prober session: its politeness and its self-probe guard, as aiohttp's session has them."""

    def __init__(self, politeness: Politeness, own: OwnAddresses | None, headers: dict[str, str]) -> None:
        self.politeness = politeness
        self.own = own
        self.headers = headers

    async def fetch(
        self, url: URL, method: str, headers: dict[str, str], timer: PhaseTimer, limit: int
    ) -> LeanResponse:
        host, port = url.raw_host or "", url.port or 80
        timer.mark("req_start")
        limits = self.politeness.for_host(url.host or host)
        await limits.request()
        sock, transport = await self._connect(host, port, timer), None
        loop = asyncio.get_running_loop()
        done: asyncio.Future[bytes] = loop.create_future()
        reader = _Reader(timer, limit + MAX_HEADER_BYTES, method == "HEAD", done)
        try:
            transport, _ = await loop.create_connection(lambda: reader, sock=sock)
            sock = None
            timer.mark("conn_end")
            transport.write(self._request(url, method, headers))
            timer.mark("headers_sent")
            raw = await done
        except OSError as exc:
            raise LeanFailure(_os_reason(exc)) from None
        finally:
            if transport is not None:
                transport.close()
            if sock is not None:
                sock.close()
        resp = _parse(raw, method == "HEAD", reader.truncated)
        timer.body_done()
        if resp.status in (429, 503):
            limits.observe(resp.status, resp.headers)
        return resp

    def _request(self, url: URL, method: str, headers: dict[str, str]) -> bytes:
        fields = {"Host": url.raw_authority, **self.headers, "Accept": "*/*"}
        fields["Accept-Encoding"] = "gzip, deflate"
        fields.update(headers)
        fields["Connection"] = "close"
        target = url.raw_path_qs or "/"
        head = "".join(f"{k}: {v}\r\n" for k, v in fields.items())
        return f"{method} {target} HTTP/1.1\r\n{head}\r\n".encode("latin-1", errors="replace")

    async def _connect(self, host: str, port: int, timer: PhaseTimer) -> socket.socket:
        loop = asyncio.get_running_loop()
        bare = host.strip("[]")
        try:
            infos = [
                (socket.AF_INET6 if ":" in bare else socket.AF_INET, socket.SOCK_STREAM, 6, "", (bare, port))
            ]
            socket.inet_pton(infos[0][0], bare)
        except OSError:
            timer.mark("dns_start")
            try:
                infos = await loop.getaddrinfo(bare, port, type=socket.SOCK_STREAM)
            except OSError:
                raise LeanFailure("dns: name not resolved") from None
            timer.mark("dns_end")
        timer.mark("conn_start")
        last: OSError | None = None
        for info in infos:
            try:
                sock = (self.own.socket_factory if self.own else _plain_socket)(info)
            except SelfProbeRefused:
                raise LeanFailure(f"connect: {REFUSED}") from None
            try:
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                await loop.sock_connect(sock, info[4][:2] if info[0] == socket.AF_INET else info[4])
                return sock
            except OSError as exc:
                sock.close()
                last = exc
            except BaseException:
                sock.close()
                raise
        raise LeanFailure(f"connect: {(last and last.strerror) or 'no address'}")


def _plain_socket(info: tuple) -> socket.socket:  # type: ignore[type-arg]
    return socket.socket(info[0], info[1], info[2])


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, ConnectionResetError):
        return "connection reset by the server"
    return f"connection error: {exc.strerror or exc.__class__.__name__}"


_CLIENTS: weakref.WeakKeyDictionary[aiohttp.ClientSession, LeanClient] = weakref.WeakKeyDictionary()


def register(session: aiohttp.ClientSession, client: LeanClient) -> None:
    """Give `session`'s plain probes the lighter path (`probes.runner.new_session` does)."""
    _CLIENTS[session] = client


def client_for(session: aiohttp.ClientSession) -> LeanClient | None:
    return _CLIENTS.get(session)
