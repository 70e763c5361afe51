"""One request sent with a FastHttpUser's own agent, and reported on Locust's `request` event.

Locust documents the `request` event as the way a client of one's own reports to its statistics. Our
users send with the very agent their FastHttpSession holds (its connection pool, its cookie jar, its
timeouts) but not through `client.request(catch_response=True)`: that wrapper's per-request work (a
context manager that copies the response, a merged context, a second headers dict, a status check
we make ourselves anyway) cost our users ~9 % of their requests per CPU-second, measured side by side
with a bare FastHttpUser (benchmarks/load_generator.py). What Locust records is the same as through
the wrapper: the name, the method, the time until the body is read, its length, and a
CatchResponseError with the reason for a failure.

What a request reads is capped (`loadtests.bounded_read`, the load profile's `max_answer_mb`, 10 MB
as the prober's): past it the request fails, "answer larger than 10 MB", and the connection is closed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from geventhttpclient.useragent import ConnectionError as GhcConnectionError
from geventhttpclient.useragent import RetriesExceeded
from locust.contrib.fasthttp import FAILURE_EXCEPTIONS
from locust.exception import CatchResponseError

from loadtests.bounded_read import AnswerTooLarge, UnknownEncoding, read_capped

ACCEPT_ENCODING = "gzip, deflate, br"
"""What FastHttpSession asks for by default; sent unless the caller chose otherwise."""
MAX_ANSWER_BYTES = 10_000_000
"""What one answer may hold unless the load profile says otherwise: the prober's cap."""
READ_FAILURES = (*FAILURE_EXCEPTIONS, AnswerTooLarge, UnknownEncoding)


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
        """Why no whole answer came, in a reader's words: a redirect loop and an oversized answer are
        answers, only not ones a citizen can use; the rest ("no answer: …") never arrived whole."""
        error = self.error
        if isinstance(error, AnswerTooLarge | UnknownEncoding):
            return str(error)
        if isinstance(error, RetriesExceeded) and "redirection limit" in str(error).lower():
            return "too many redirects"
        return f"no answer: {_why(error)}"


def _why(error: BaseException | None) -> str:
    """The cause without the URL: geventhttpclient names the URL (a dossier's code, a transaction) in
    its errors and wraps a timeout in "URL …: 1, original=timed out"; Locust keys its error table by
    the text, so each URL would be an error row of its own, without bound."""
    for _ in range(5):  # wrapped at most a few times; bounded all the same
        inner = getattr(error, "original", None)
        if not isinstance(inner, BaseException):
            break
        error = inner
    if isinstance(error, GhcConnectionError):
        return error.text or type(error).__name__
    return str(error) or type(error).__name__


def send(
    agent: Any,
    method: str,
    url: str,
    body: bytes | None,
    headers: dict[str, str],
    limit: int = MAX_ANSWER_BYTES,
) -> Sent:
    """`headers` is the caller's own dict for this request (Accept-Encoding may be added to it).
    Redirects are followed as the agent is told (`redirect_response_codes`); an answer outside 2xx/3xx
    is an answer like any other, for the caller to judge. At most `limit` bytes of body are read."""
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
            content = read_capped(response, limit)
        except READ_FAILURES as exc:  # the answer broke off while its body was read, or went past the cap
            error = exc
    return Sent(method, url, response, content, error, started_at, (time.perf_counter() - started) * 1000)


def unsent(method: str, url: str, why: BaseException) -> Sent:
    """A request refused before a byte went out: counted as a failure like any other."""
    return Sent(method, url, None, b"", why, time.time(), 0.0)


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
