"""A tiny synchronous HTTP client that drives the sans-IO `Replay` in tests: urllib, a cookie jar,
redirects not followed (each hop is its own request in a flow)."""

from __future__ import annotations

import http.cookiejar
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from dvcwatch.core.flows import Answer, Prepared, Replay


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


@dataclass
class Outcome:
    sent: list[Prepared] = field(default_factory=list)
    failure: str | None = None
    failed: Prepared | None = None

    @property
    def steps(self) -> list[str]:
        return list(dict.fromkeys(p.step for p in self.sent))


def run(replay: Replay, timeout: float = 15.0) -> Outcome:
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
    )
    out = Outcome()
    for prepared in replay:
        out.sent.append(prepared)
        req = urllib.request.Request(
            prepared.url, data=prepared.body, method=prepared.method, headers=prepared.headers
        )
        try:
            with opener.open(req, timeout=timeout) as r:
                answer = Answer(r.status, r.headers, r.read(), prepared.url)  # every Set-Cookie
        except urllib.error.HTTPError as e:
            answer = Answer(e.code, e.headers, e.read(), prepared.url)
        reason = replay.answer(prepared, answer)
        if reason:
            out.failure, out.failed = reason, prepared
            break
    if out.failure is None and replay.failure:
        out.failure = replay.failure
    return out
