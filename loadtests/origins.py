"""Where a replayed flow may send a request: the portal's own origin and the profile's `origins`.

A flow takes URLs from answers (a `Location`, a link in a page), so a portal, or anyone who can put a
link in its pages, could send a load's citizens elsewhere, and their cookies with them: cookies are
bound to a host, not to a port, so every other service on the portal's host would get the session.
The flow probe refuses such a request before a byte is sent (probes/checks/flow.py); load does the same
here, and counts it as a failed request.

The check runs for every request of every replay, so the usual case is a prefix test: a URL that
starts with an allowed origin followed by `/`, `?`, `#` or nothing. Anything else is split and compared
as (scheme, host, port), the default port filled in, so `http://h:80/x` is `http://h/x`.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
Origin = tuple[str, str, int | None]


def origin_of(url: str) -> Origin | None:
    """(scheme, host, port), lower-cased, the default port filled in; None for a URL with no host or
    a port that is not a number."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return None
    return scheme, host, port if port is not None else DEFAULT_PORTS.get(scheme)


class Origins:
    """The origins a load's flow requests may reach; `refusal(url)` says why one may not."""

    def __init__(self, urls: Iterable[str]) -> None:
        urls = list(urls)
        self.allowed = {o for o in map(origin_of, urls) if o is not None}
        self.prefixes = tuple(sorted({u.rstrip("/") for u in urls if origin_of(u) is not None}))

    def refusal(self, url: str) -> str | None:
        for prefix in self.prefixes:
            if url.startswith(prefix) and url[len(prefix) : len(prefix) + 1] in ("", "/", "?", "#"):
                return None
        origin = origin_of(url)
        if origin is not None and origin in self.allowed:
            return None
        where = f"{origin[1]}:{origin[2]}" if origin else repr(url[:80])
        return (
            f"refused: {where} is not the portal's origin nor one of the profile's origins; nothing was sent"
        )
