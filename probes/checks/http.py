"""One HTTP request: status, content (soft failures included) and the peer certificate."""

from __future__ import annotations

import asyncio
import codecs
import re
import ssl
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Literal

import aiohttp
from pydantic import Field, field_validator
from yarl import URL

from dvcwatch.core.page_markers import check_selector, page_trouble
from probes.checks import HARMLESS_HEADERS, CheckContext, Kind, Observation, TargetBase, lean_http
from probes.phases import MAX_REDIRECTS, RedirectRefused, ssl_context
from probes.selfguard import REFUSED
from probes.x509 import not_after

MAX_BODY_BYTES = 10_000_000
_STATUS_CLASS_RE = re.compile(r"^[1-5]xx$")


class HttpTarget(TargetBase):
    """One HTTP request; healthy when the status, content and latency are as expected."""

    kind: Literal["http"]
    url: str
    method: Literal["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"] = "GET"
    headers: dict[str, str] = {}
    body: str | None = None
    expect_status: list[int | str] = Field(default_factory=lambda: ["2xx"], min_length=1)
    must_contain: list[str] = []
    must_not_contain: list[str] = []
    must_not_match: list[str] = Field(
        default=[],
        description="selectors (a profile's error page, busy banner: CSS, `text=…`, `:has-text()`) of "
        "what must not be shown on the page",
    )
    follow_redirects: bool = True

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return v

    @field_validator("must_not_match")
    @classmethod
    def _readable(cls, v: list[str]) -> list[str]:
        return [check_selector(s) for s in v]

    @field_validator("expect_status")
    @classmethod
    def _statuses(cls, v: list[int | str]) -> list[int | str]:
        for s in v:
            if isinstance(s, int) and not 100 <= s <= 599:
                raise ValueError(f"HTTP status {s} is not between 100 and 599")
            if isinstance(s, str) and not _STATUS_CLASS_RE.match(s):
                raise ValueError(f"status {s!r}: use a code like 200 or a class like 2xx")
        return v

    def status_ok(self, status: int) -> bool:
        return any(s == status or (isinstance(s, str) and str(status)[0] == s[0]) for s in self.expect_status)

    def has_content_rule(self) -> bool:
        return bool(self.must_contain or self.must_not_contain or self.must_not_match)

    def secrets(self) -> tuple[Any, ...]:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HARMLESS_HEADERS}
        return ("http", headers, self.body) if headers or self.body else ()


def content_verdict(
    text: str, must_contain: list[str], must_not_contain: list[str], must_not_match: Sequence[str] = ()
) -> tuple[bool | None, str]:
    """(matched, reason). None when nothing is asked of the content.

    A portal that answers 200 with "Hệ thống đang bận" has failed the citizen, so the reason names
    the text (or the profile's selector) that was, or was not, there. Selectors are judged by the
    core's one matcher (`dvcwatch.core.page_markers`), so a probe, a replay and a load agree on what
    an error page is (not a script's text, not a hidden element)."""
    if not must_contain and not must_not_contain and not must_not_match:
        return None, ""
    for needle in must_not_contain:
        if needle in text:
            return False, f"content: page shows {needle!r}"
    if must_not_match and text:
        shown = page_trouble(tuple((f"content: page shows {s}", s) for s in must_not_match))
        reason = shown.reason(text.encode())
        if reason is not None:
            return False, reason
    for needle in must_contain:
        if needle not in text:
            return False, f"content: {needle!r} missing"
    return True, ""


def describe_error(exc: BaseException) -> str:
    """A short, stable reason for a transport failure; never the request's headers or body."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return f"tls: certificate rejected ({exc.certificate_error.__class__.__name__})"
    if isinstance(exc, aiohttp.ClientConnectorSSLError | ssl.SSLError):
        return "tls: handshake failed"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "dns: name not resolved"
    if isinstance(exc, aiohttp.ClientConnectorError) and REFUSED in str(exc.os_error):
        return f"connect: {REFUSED}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"connect: {exc.os_error.strerror or exc.os_error.__class__.__name__}"
    if isinstance(exc, aiohttp.ServerDisconnectedError | ConnectionResetError):
        return "connection reset by the server"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "connection reset during the body"
    if isinstance(exc, aiohttp.ClientOSError):
        return f"connection error: {exc.strerror or exc.__class__.__name__}"
    if isinstance(exc, RedirectRefused):
        return str(exc)
    if isinstance(exc, aiohttp.TooManyRedirects):
        return "too many redirects"
    return f"{exc.__class__.__name__}: {exc}"[:120]


REDIRECTS = frozenset({301, 302, 303, 307, 308})


@lru_cache(maxsize=4096)
def _plain_url(url: str) -> URL | None:
    """The parsed URL of a target the lighter client can take (plain http), else None."""
    return URL(url) if url.startswith("http://") else None


async def check(target: HttpTarget, ctx: CheckContext) -> Observation:
    lean = lean_http.client_for(ctx.session)
    url = _plain_url(target.url) if target.body is None and target.method in ("GET", "HEAD") else None
    if lean is None or url is None:
        return await _check_aiohttp(target, ctx, target.url)
    obs = ctx.observation
    try:
        resp = await lean.fetch(url, target.method, target.headers, ctx.timer, MAX_BODY_BYTES)
    except lean_http.LeanFailure as exc:
        return obs.fail(str(exc))
    location = resp.headers.get("Location") or resp.headers.get("URI")
    if target.follow_redirects and resp.status in REDIRECTS and location:
        # the next hops through aiohttp, within the same per-probe bound and origin rule
        try:
            nxt = url.join(URL(location))
        except ValueError:
            return obs.fail("redirect to an unreadable Location")
        ctx.timer.redirects += 1
        if ctx.timer.same_origin_only and nxt.origin() != url.origin():
            return obs.fail("redirect to another host refused: the request carries secrets")
        return await _check_aiohttp(target, ctx, str(nxt))
    obs.status_code = resp.status
    charset = resp.charset
    try:
        text = resp.body.decode(codecs.lookup(charset).name if charset else "utf-8", errors="replace")
    except LookupError:
        text = resp.body.decode("utf-8", errors="replace")
    return _judge(target, obs, resp.status, text)


async def _check_aiohttp(target: HttpTarget, ctx: CheckContext, url: str) -> Observation:
    obs = ctx.observation
    try:
        async with ctx.session.request(
            target.method,
            url,
            headers=target.headers,
            data=target.body.encode() if target.body is not None else None,
            allow_redirects=target.follow_redirects,
            # the probe's own bound (phases.MAX_REDIRECTS, over all its requests) is the one that
            # applies; aiohttp's per-request cap sits one above it, only as a backstop
            max_redirects=MAX_REDIRECTS + 1,
            ssl=ssl_context(target.insecure_skip_verify, target.ca_file),
            trace_request_ctx=ctx.timer,
        ) as resp:
            obs.status_code = resp.status
            raw = await resp.content.read(MAX_BODY_BYTES)
            ctx.timer.body_done()
            text = raw.decode(resp.get_encoding() if resp.charset else "utf-8", errors="replace")
    except (aiohttp.ClientError, OSError, ssl.SSLError, asyncio.IncompleteReadError) as exc:
        return _with_cert(obs, ctx).fail(describe_error(exc))
    _with_cert(obs, ctx)
    return _judge(target, obs, resp.status, text)


def _judge(target: HttpTarget, obs: Observation, status: int, text: str) -> Observation:
    obs.content_match, reason = content_verdict(
        text, target.must_contain, target.must_not_contain, target.must_not_match
    )
    if not target.status_ok(status):
        return obs.fail(f"HTTP {status}")
    if obs.content_match is False:
        return obs.fail(reason)
    obs.success = True
    return obs


def _with_cert(obs: Observation, ctx: CheckContext) -> Observation:
    if ctx.timer.peer_cert_der:
        try:
            obs.tls_expiry = not_after(ctx.timer.peer_cert_der)
        except ValueError:
            pass
    return obs


KIND = Kind(HttpTarget, check)
