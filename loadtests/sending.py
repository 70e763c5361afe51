"""One request sent with a FastHttpUser's own agent, and reported on Locust's `request` event.

Locust documents the `request` event as the way a client of one's own reports to its statistics. Our
users send with the very agent their FastHttpSession holds (its connection pool, its cookie jar, its
timeouts) but not through `client.request(catch_response=True)`: that wrapper's per-request work (a
context manager that copies the response, a merged context, a second headers dict, a status check
we make ourselves anyway) cost our users ~9 % of their requests per CPU-second, measured side by side
with a bare FastHttpUser (benchmarks/load_generator.py). What Locust records is the same as through
the wrapper: the name, the method, the time until the body is read, its length, and a
CatchResponseError with the reason for a failure.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from locust.contrib.fasthttp import FAILURE_EXCEPTIONS
from locust.exception import CatchResponseError

ACCEPT_ENCODING = "gzip, deflate, br"
"""What FastHttpSession asks for by default; sent unless the caller chose otherwise."""


@dataclass(slots=True)
class Sent:
    method: str
    url: str
    response: Any
    """geventhttpclient's answer (Locust's FastResponse), None when none came."""
    body: bytes
    error: BaseException | None
    """Why no whole answer came (refused, reset, timed out, cut off): then it is a failure."""
    started_at: float
    elapsed_ms: float

    @property
    def status(self) -> int:
        return (self.response.status_code or 0) if self.error is None and self.response is not None else 0

    def no_answer(self) -> str:
        return f"no answer: {str(self.error) or type(self.error).__name__}"


def send(agent: Any, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> Sent:
    """`headers` is the caller's own dict for this request (Accept-Encoding may be added to it).
    Redirects are followed as the agent is told (`redirect_response_codes`); an answer outside 2xx/3xx
    is an answer like any other, for the caller to judge."""
    if "Accept-Encoding" not in headers and "accept-encoding" not in headers:
        headers["Accept-Encoding"] = ACCEPT_ENCODING
    started_at = time.time()
    started = time.perf_counter()
    response: Any = None
    error: BaseException | None = None
    try:
        response = agent.urlopen(url, method=method, payload=body, headers=headers)
    except FAILURE_EXCEPTIONS as exc:
        response = getattr(exc, "response", None)
        if response is None:
            error = exc
    content = b""
    if response is not None:
        try:
            content = response.content or b""
        except FAILURE_EXCEPTIONS as exc:  # the answer broke off while its body was read
            error = exc
    return Sent(method, url, response, content, error, started_at, (time.perf_counter() - started) * 1000)


def report(event: Any, sent: Sent, name: str, context: dict[str, Any], reason: str | None) -> None:
    """Tell Locust's statistics (and every listener of `request`) about one request."""
    event.fire(
        request_type=sent.method,
        name=name,
        response_time=sent.elapsed_ms,
        response_length=len(sent.body),
        response=sent.response,
        context=context,
        exception=None if reason is None else CatchResponseError(reason),
        start_time=sent.started_at,
        url=sent.url,
    )
