"""Reading an answer's body with a cap, so a portal that streams without end fails one request.

geventhttpclient reads a body whole (`response.content`): a portal streaming an endless 200 (or a
small gzip that inflates to gigabytes) grew a load process until MemoryError, with nothing counted.
Here a body is read at most up to the cap, as the prober does (`probes/checks/http.py`, 10 MB), and
one past it is `AnswerTooLarge`, a counted failure. A connection whose answer was left half-read is
closed, never handed back to the pool, where the next request would read the rest as its answer.

The usual answer costs nothing more than before: a declared length within the cap and no
compression is read by geventhttpclient itself, as it always was. Only an answer of unknown length
(chunked, or ended by closing) or a compressed one is read here, in blocks, and inflated with a bound.
"""

from __future__ import annotations

import zlib
from typing import Any

import brotli

BLOCK_BYTES = 64 * 1024
"""One read of an answer of unknown length: big enough that a page takes one or two, small enough
that nothing past the cap is ever held."""


class AnswerTooLarge(Exception):
    """The answer went past the cap; nothing more of it was read."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"answer larger than {limit / 1_000_000:g} MB")


class UnknownEncoding(Exception):
    """A Content-Encoding this reader cannot inflate: the answer cannot be judged."""


def read_capped(response: Any, limit: int) -> bytes:
    """The body of Locust's FastResponse (geventhttpclient's CompatResponse), decoded as
    `response.content` would be, and kept there for `.content` and `.text`; AnswerTooLarge past
    `limit` bytes, raw or inflated."""
    raw = response._response
    encoding = _encoding(response.headers)
    declared = _declared_length(raw)
    if declared is not None and declared > limit:
        _drop(raw)
        raise AnswerTooLarge(limit)
    if encoding == "identity" and declared is not None:
        return response.content or b""  # bounded by its declared length: geventhttpclient's own read
    body = raw.read() if declared is not None else _read_blocks(raw, limit)
    content = _inflate(body, encoding, limit)
    response._cached_content = content
    return content


def _encoding(headers: Any) -> str:
    if headers is None:
        return "identity"
    values = headers.getlist("content-encoding") if hasattr(headers, "getlist") else []
    return values[0].strip().lower() if values else "identity"


def _declared_length(raw: Any) -> int | None:
    try:
        length = raw.content_length
    except ValueError:  # a Content-Length that is not a number: read as one of unknown length
        return None
    return length if isinstance(length, int) and length >= 0 else None


def _read_blocks(raw: Any, limit: int) -> bytes:
    blocks: list[bytes] = []
    total = 0
    while True:
        block = raw.read(BLOCK_BYTES)
        if not block:
            return b"".join(blocks)
        total += len(block)
        if total > limit:
            _drop(raw)
            raise AnswerTooLarge(limit)
        blocks.append(block)


def _inflate(body: bytes, encoding: str, limit: int) -> bytes:
    """As geventhttpclient inflates (gzip, deflate raw or zlib-wrapped, br), stopping past `limit`."""
    if encoding == "identity" or not body:
        return body
    if encoding in ("gzip", "x-gzip"):
        return _zlib(body, 16 + zlib.MAX_WBITS, limit)
    if encoding == "deflate":
        try:
            return _zlib(body, -zlib.MAX_WBITS, limit)
        except zlib.error:
            return _zlib(body, zlib.MAX_WBITS, limit)
    if encoding == "br":
        inflater = brotli.Decompressor()
        out = inflater.process(body, output_buffer_limit=limit + 1)
        if len(out) > limit:
            raise AnswerTooLarge(limit)
        return out
    raise UnknownEncoding(f"unknown Content-Encoding {encoding!r}")


def _zlib(body: bytes, wbits: int, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits)
    out = inflater.decompress(body, limit + 1)
    if len(out) > limit or inflater.unconsumed_tail:
        raise AnswerTooLarge(limit)
    return out


def _drop(raw: Any) -> None:
    """Close the connection of a half-read answer instead of returning it to the pool."""
    pool, sock = getattr(raw, "_pool", None), getattr(raw, "_sock", None)
    raw._pool = None
    raw._sock = None
    if sock is None:
        return
    if pool is not None:
        pool.release_socket(sock)
    else:
        sock.close()
