"""Journeys on browser servers elsewhere (`shop --browser ws://HOST:PORT/PATH`), spoken to in
Playwright's own protocol (`playwright launch-server`, `run-server`, browserless, Moon, Selenium Grid).

Chromium is the heavy part of a sweep (about 2.3 CPU-seconds a journey), so a runner on a ward office's
small box can hand it to bigger machines. Contexts are spread over the servers by capacity; a server
that goes away takes only its running journeys with it, and those run again on a server still there,
as a local chromium crash is (`harness_restarts`). When none is left, a journey is a harness `error`,
never the portal's fault. The ws path often carries the server's secret (a token, an unguessable path),
so a server is only ever named by scheme, host and port.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from dvcwatch.core.errors import ConfigError, DvcwatchError
from playwright_journeys.browser import context_options, open_page
from playwright_journeys.outcome import HarnessError
from playwright_journeys.personas import Persona

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page, Playwright

CONNECT_TIMEOUT_MS = 30_000  # a server behind a dropped firewall rule must not hold the sweep for good
MAX_CAPACITY = 1000
NO_SERVER_LEFT = "no browser server left"


@dataclass(frozen=True)
class BrowserServer:
    """One `--browser` value: the endpoint handed to Playwright (without the fragment, which only
    this tool reads) and the contexts it may hold at once (None: the sweep's share)."""

    url: str
    capacity: int | None = None

    @property
    def name(self) -> str:
        """How the server is named in messages and results: never its path or query."""
        u = urlsplit(self.url)
        return f"{u.scheme}://{u.netloc.rpartition('@')[2]}/…"


def parse_browser(text: str) -> BrowserServer:
    """`ws://HOST:PORT/PATH` or `wss://…`, optionally `#capacity=N`: the fragment is never sent to
    the server, so the endpoint (and any token in its query) stays exactly as the server gave it."""
    shown = BrowserServer(text).name if "://" in text else "the value"
    try:
        u = urlsplit(text)
        u.port  # noqa: B018 (a port out of range raises here)
    except ValueError:
        raise ConfigError(f"--browser {shown}: not a URL; give ws://HOST:PORT/PATH") from None
    if u.scheme not in ("ws", "wss") or not u.hostname:
        raise ConfigError(
            f"--browser {shown}: give a Playwright server endpoint, ws://HOST:PORT/PATH or wss://…"
        )
    capacity = None
    if u.fragment:
        key, _, value = u.fragment.partition("=")
        if key != "capacity" or not value.isdigit() or not 1 <= int(value) <= MAX_CAPACITY:
            raise ConfigError(
                f"--browser {shown}: the only fragment is #capacity=N, N contexts at once (1 to {MAX_CAPACITY})"
            )
        capacity = int(value)
    return BrowserServer(u._replace(fragment="").geturl(), capacity)


def parse_browsers(texts: list[str]) -> list[BrowserServer]:
    """`--browser` values; `@FILE` reads one endpoint a line from a file (blank lines and lines
    starting with # skipped), so a secret path or token stays out of the process list (`ps`)."""
    servers: list[BrowserServer] = []
    for text in texts:
        if not text.startswith("@"):
            servers.append(parse_browser(text))
            continue
        from dvcwatch.core.inputfile import read_input_text

        path = text[1:]
        lines = read_input_text(path, limit=1 << 20, what="a file of browser server endpoints").splitlines()
        found = [(n, line.strip()) for n, line in enumerate(lines, 1) if line.strip()[:1] not in ("", "#")]
        if not found:
            raise ConfigError("no endpoint in it; give one ws://HOST:PORT/PATH a line", path=path)
        for n, line in found:
            try:
                servers.append(parse_browser(line))
            except ConfigError as exc:
                raise ConfigError(str(exc), path=path, line=n) from None
    urls = [s.url for s in servers]
    for s in servers:
        if urls.count(s.url) > 1:
            raise ConfigError(f"--browser {s.name} is given twice; give one, with #capacity=N")
    return servers


def with_capacities(servers: list[BrowserServer], parallel: int) -> list[BrowserServer]:
    """A server without #capacity takes an even share of `--parallel` (at least one context)."""
    share = max(1, math.ceil(parallel / len(servers))) if servers else 0
    return [BrowserServer(s.url, s.capacity or share) for s in servers]


@dataclass
class _Server:
    spec: BrowserServer
    capacity: int
    browser: Browser | None = None
    busy: int = 0
    gone: str | None = None  # why it is out of this sweep (it would not take a connection)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class BrowserPool:
    """The `BrowserHost` of a sweep on browser servers: the same `ensure`, `new_context`, `lost` and
    `close`. A server whose connection dropped is connected again when next chosen (a restarted
    server comes back); one that refuses is out of the sweep."""

    def __init__(self, playwright: Playwright, servers: list[BrowserServer], parallel: int) -> None:
        self.playwright = playwright
        self.servers = [_Server(s, s.capacity or 1) for s in with_capacities(servers, parallel)]
        self._free = asyncio.Condition()
        self._leases: dict[BrowserContext, _Server] = {}

    async def ensure(self) -> None:
        """Connect to every server at the start; the sweep begins if at least one answers."""
        await asyncio.gather(*(self._connect(s) for s in self.servers))
        if all(s.gone for s in self.servers):
            raise DvcwatchError(
                "no browser server answered: " + "; ".join(f"{s.spec.name} ({s.gone})" for s in self.servers)
            )

    def lost(self, page: Page | None) -> bool:
        """Whether the journey's own server went away under it (it then runs again elsewhere). Not
        when no context could be opened: `new_context` already tried every server still there."""
        if page is None:
            return False
        try:
            browser = page.context.browser
            return browser is None or not browser.is_connected()
        except Exception:
            return True

    async def new_context(
        self,
        persona: Persona,
        user_agent: str | None = None,
        storage_state: Any = None,
        record: dict[str, Any] | None = None,
    ) -> tuple[BrowserContext, Page]:
        options = context_options(self.playwright, persona, user_agent, storage_state, record)
        for _ in range(2 * len(self.servers) + 1):  # each server connected again at most about once
            server, browser = await self._take(), None
            try:
                browser = await self._connected(server)
                context = await browser.new_context(**options)
            except Exception as exc:
                await self._give_back(server)
                if await self._still_there(server, browser, exc):
                    raise  # the server is there and refused this context: not a lost server
                continue
            self._leases[context] = server
            context.once("close", lambda _, c=context: self._release(c))
            try:
                return await open_page(context, persona)
            except Exception as exc:
                await _close_quietly(context)
                self._release(context)
                if await self._still_there(server, browser, exc):
                    raise
        raise HarnessError(f"{NO_SERVER_LEFT} that keeps its connection: " + self._names())

    async def _still_there(self, server: _Server, browser: Browser | None, exc: BaseException) -> bool:
        """False (and the server is connected again when next chosen) if the connection `browser`
        came through dropped. The error can come before Playwright has seen the socket close, so its
        words count too. Another journey may already have connected again: that connection stays."""
        if browser is not None and browser.is_connected() and not _says_closed(exc):
            return True
        if browser is not None and server.browser is browser:
            server.browser = None
            await _close_quietly(browser)
        return False

    def _names(self) -> str:
        return ", ".join(f"{s.spec.name} ({s.gone or 'connection dropped'})" for s in self.servers)

    async def _take(self) -> _Server:
        """A slot on the least busy server for its capacity; waits while all are full."""
        async with self._free:
            while True:
                live = [s for s in self.servers if s.gone is None]
                if not live:
                    raise HarnessError(f"{NO_SERVER_LEFT}: {self._names()}")
                free = [s for s in live if s.busy < s.capacity]
                if free:
                    server = min(free, key=lambda s: s.busy / s.capacity)
                    server.busy += 1
                    return server
                await self._free.wait()

    async def _give_back(self, server: _Server) -> None:
        async with self._free:
            server.busy -= 1
            self._free.notify_all()

    def _release(self, context: BrowserContext) -> None:
        server = self._leases.pop(context, None)
        if server is not None:
            asyncio.get_running_loop().create_task(self._give_back(server))

    async def _connected(self, server: _Server) -> Browser:
        await self._connect(server)
        if server.browser is None:
            raise ConnectionError(server.gone)
        return server.browser

    async def _connect(self, server: _Server) -> None:
        async with server.lock:
            if server.gone is not None or (server.browser is not None and server.browser.is_connected()):
                return
            try:
                server.browser = await self.playwright.chromium.connect(
                    server.spec.url, timeout=CONNECT_TIMEOUT_MS
                )
            except Exception as exc:
                server.browser, server.gone = None, _reason(exc, server.spec)
        if server.gone is not None:
            async with self._free:
                self._free.notify_all()  # those waiting for its slots look elsewhere

    async def close(self) -> None:
        for server in self.servers:
            if server.browser is not None:
                await _close_quietly(server.browser)  # a connected browser: only disconnects
                server.browser = None


def _reason(exc: BaseException, spec: BrowserServer) -> str:
    """Playwright's first line, without the endpoint (its path may be the server's secret)."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    u = urlsplit(spec.url)
    text = text.replace(spec.url, spec.name)
    for secret in (u.query, u.path if len(u.path) > 1 else ""):
        if secret:
            text = text.replace(secret, "…")
    return text.removeprefix("BrowserType.connect: ")[:200]


def _says_closed(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(w in text for w in ("has been closed", "target closed", "connection closed", "disconnected"))


async def _close_quietly(closable: Any) -> None:
    try:
        await asyncio.wait_for(closable.close(), timeout=10)
    except Exception:
        pass
