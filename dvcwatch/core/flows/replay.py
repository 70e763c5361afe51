"""Replaying a flow without doing any I/O: the caller sends, this decides what to send next.

Load (FastHttpUser) and probes (aiohttp) bring their own HTTP clients; both drive the same planner:

    replay = Replay(flow, bindings, error_selectors=..., busy_selectors=...)
    for prepared in replay:                      # stops after the last request or the first failure
        answer = send(prepared)                  # the caller's client; redirects NOT followed
        reason = replay.answer(prepared, answer)
        if reason: record_failure(prepared.step, reason)

The caller keeps a cookie jar (sessions are cookies; a flow never writes one) and waits
`prepared.think_seconds` before sending if it honours think times.
"""

from __future__ import annotations

import hashlib
import json
import uuid
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from dvcwatch.core.credentials import Secret
from dvcwatch.core.flows.model import Flow, FlowRequest, Upload
from dvcwatch.core.flows.pages import AnswerView
from dvcwatch.core.flows.templates import (
    MissingValue,
    Pieces,
    parse,
    render,
    render_pieces,
    render_value,
    url_encode,
)
from dvcwatch.core.page_markers import page_trouble

THINK_CAP_SECONDS = 30.0
"""A recorded pause longer than this was a person reading or a slow page, not a citizen's rhythm."""


@dataclass(slots=True)
class Prepared:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    step: str
    label: str
    think_seconds: float
    expect_status: tuple[int, ...]
    index: int = 0
    """Position in the flow (0-based), so an answer is matched to its request."""


@dataclass(slots=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str


@dataclass
class Bindings:
    """What a replay fills the templates with. `citizen` maps attribute names (`cccd`, `full_name`,
    `birth_date`, `birth_date_iso` …) to values; see `citizen_values`.

    One citizen's Bindings can serve all its visits (a load user keeps one): URLs made only of its
    own values (`${base}`, `${origin.*}`, `${citizen.*}`, `${account.username}`) are rendered once
    into `rendered` and read from there by every later Replay. So the values are fixed once a
    Replay has used them: a different citizen or account gets new Bindings."""

    base: str
    citizen: Mapping[str, str] = field(default_factory=dict)
    origins: Mapping[str, str] = field(default_factory=dict)
    """The profile's `origins` (role → URL): `${origin.identity}` in a flow recorded elsewhere."""
    username: str | None = None
    password: Secret | None = None
    otp: Callable[[], str] | None = None
    rendered: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    """URL template → URL, for templates of this citizen's own values only (STABLE_NAMES)."""
    rendered_headers: dict[str, dict[str, str]] = field(default_factory=dict, repr=False, compare=False)
    """A request's headers (by `_Planned.headers_key`) when their templates are of this citizen's own
    values only: a compiled flow keeps the recording's `Origin` and `Referer` on `${base}`."""


STABLE_NAMES = ("base", "origin.", "citizen.", "account.username")
"""What stays the same across one citizen's visits (not the password, an OTP or an extraction)."""


def _stable(pieces: Pieces) -> bool:
    return all(not is_name or name.startswith(STABLE_NAMES) for name, is_name in pieces)


def bindings_for(
    profile: Any,
    citizen: Any,
    *,
    base: str | None = None,
    username: str | None = None,
    password: Secret | None = None,
    otp: Callable[[], str] | None = None,
) -> Bindings:
    """Bindings for a profile (dvcwatch.core.profile.Profile; not imported here, the profile imports
    this package for its `flows:` rules) and a synthetic citizen: base URL and origins from the
    profile; the account's username defaults to the citizen's CCCD, as on the sandbox."""
    return Bindings(
        base=(base or profile.base_url).rstrip("/"),
        citizen=citizen_values(citizen),
        origins=dict(profile.origins),
        username=username if username is not None else citizen.cccd,
        password=password,
        otp=otp,
    )


def citizen_values(citizen: Any) -> dict[str, str]:
    """A synthetic citizen (dvcwatch.core.identities.Citizen) as template values, with the derived
    spellings forms use (ISO birth date), and without the password (that one is `${secret.password}`)."""
    values = {k: str(v) for k, v in citizen.public_dict().items()}
    day, month, year = values["birth_date"].split("/")
    values["birth_date_iso"] = f"{year}-{month}-{day}"
    return values


def upload_bytes(upload: Upload, seed: str) -> bytes:
    """Bytes for a re-sent file, shaped like its type so a portal that sniffs magic numbers accepts
    them: a PDF header, a PNG signature, a JPEG marker; the rest is deterministic filler."""
    ctype = upload.content_type.lower()
    name = upload.filename.lower()
    if "pdf" in ctype or name.endswith(".pdf"):
        head = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
        tail = b"\n%%EOF\n"
    elif "png" in ctype or name.endswith(".png"):
        head, tail = b"\x89PNG\r\n\x1a\n", b""
    elif "jpeg" in ctype or "jpg" in ctype or name.endswith((".jpg", ".jpeg")):
        head, tail = b"\xff\xd8\xff\xe0", b"\xff\xd9"
    else:
        head, tail = b"", b""
    filler = hashlib.sha256(seed.encode()).hexdigest().encode()
    need = max(upload.size - len(head) - len(tail), 0)
    return head + (filler * (need // len(filler) + 1))[:need] + tail


@dataclass(frozen=True, slots=True)
class _Planned:
    """One request of a flow, read once for all its replays: a load replays the same few flows
    millions of times, and what does not change per citizen is not worked out per request."""

    step: str
    req: FlowRequest
    url: Pieces
    url_stable: bool
    """The URL uses only the citizen's own values: rendered once per Bindings (Bindings.rendered)."""
    headers: tuple[tuple[str, Pieces], ...]
    static_headers: dict[str, str] | None
    """The headers when none is a template (copied per request: callers may add to them)."""
    headers_key: str | None
    """Set when every templated header uses only the citizen's own values: rendered once per Bindings."""
    think_seconds: float
    expect_status: tuple[int, ...]


def _plan_request(step: str, req: FlowRequest) -> _Planned:
    headers = tuple((k, parse(v)) for k, v in req.headers.items())
    static = all(all(not is_name for _, is_name in pieces) for _, pieces in headers)
    stable = not static and all(_stable(pieces) for _, pieces in headers)
    url = parse(req.url)
    return _Planned(
        step=step,
        req=req,
        url=url,
        url_stable=_stable(url),
        headers=headers,
        static_headers={k: "".join(p for p, _ in pieces) for k, pieces in headers} if static else None,
        headers_key="\n".join(f"{k}: {v}" for k, v in req.headers.items()) if stable else None,
        think_seconds=min(req.think_seconds, THINK_CAP_SECONDS),
        expect_status=tuple(req.expect_status),
    )


@dataclass(frozen=True, slots=True)
class _FlowPlan:
    requests: tuple[_Planned, ...]
    citizen_needs: tuple[str, ...]
    """The citizen attributes the flow's params name, checked once per Replay."""


_PLANS: dict[int, tuple[weakref.ref[Flow], _FlowPlan]] = {}


def _plan(flow: Flow) -> _FlowPlan:
    """The flow's requests, planned once per Flow object (a flow is not changed once loaded; a
    `model_copy` is a new Flow with its own plan), dropped when the flow is."""
    key = id(flow)
    held = _PLANS.get(key)
    if held is not None and held[0]() is flow:
        return held[1]
    plan = _FlowPlan(
        requests=tuple(_plan_request(step, req) for step, req in flow.requests()),
        citizen_needs=tuple(p[8:] for p in flow.params if p.startswith("citizen.")),
    )
    _PLANS[key] = (weakref.ref(flow, lambda _ref, key=key: _PLANS.pop(key, None)), plan)
    return plan


def _is_html(headers: Mapping[str, str], body: bytes) -> bool:
    """AnswerView.is_html without building the view: most answers are judged on status alone."""
    ctype = headers.get("content-type") or headers.get("Content-Type")
    if ctype is None:
        ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    return "html" in ctype or (not ctype and body.lstrip()[:1] == b"<")


class Replay:
    """One citizen's pass through one flow."""

    def __init__(
        self,
        flow: Flow,
        bindings: Bindings,
        *,
        error_selectors: Sequence[str] = (),
        busy_selectors: Sequence[str] = (),
    ) -> None:
        self.flow = flow
        self.bindings = bindings
        self.error_selectors = [s for s in error_selectors if s]
        self.busy_selectors = [s for s in busy_selectors if s]
        # compiled once per set of selectors (cached), not per replay; ValueError for an unreadable one
        self._trouble = page_trouble(
            tuple((f"busy banner: {s}", s) for s in self.busy_selectors)
            + tuple((f"error page: {s}", s) for s in self.error_selectors)
        )
        self.values: dict[str, Any] = {}
        self.failure: str | None = None
        plan = _plan(flow)
        self._plan = plan.requests
        self._next = 0
        self._otp: str | None = None
        missing = [f"citizen.{p}" for p in plan.citizen_needs if p not in bindings.citizen]
        if missing:
            raise ValueError(f"the citizen has no {', '.join(missing)} (the flow needs it)")

    @property
    def done(self) -> bool:
        return self.failure is not None or self._next >= len(self._plan)

    def __iter__(self) -> Iterator[Prepared]:
        return self

    def __next__(self) -> Prepared:
        prepared = self.next_request()
        if prepared is None:
            raise StopIteration
        return prepared

    def _lookup(self, name: str) -> Any:
        b = self.bindings
        if name == "base":
            return b.base.rstrip("/")
        if name.startswith("citizen."):
            return b.citizen[name[8:]]
        if name.startswith("origin."):
            if name[7:] not in b.origins:
                raise MissingValue(
                    f"the flow visits the {name[7:]} origin but the profile has no origins.{name[7:]}"
                )
            return b.origins[name[7:]].rstrip("/")
        if name == "account.username":
            if b.username is None:
                raise MissingValue("the flow logs in but the replay has no account username")
            return b.username
        if name == "secret.password":
            if b.password is None:
                raise MissingValue("the flow logs in but the replay has no password")
            return b.password.reveal()
        if name == "otp":
            if b.otp is None:
                raise MissingValue("the flow asks for an OTP but the replay has no OTP source")
            if self._otp is None:  # one code per request: the same code may appear twice in one form
                self._otp = b.otp()
            return self._otp
        if name not in self.values:
            raise MissingValue(f"${{{name}}} was never extracted")
        return self.values[name]

    def next_request(self) -> Prepared | None:
        """The next request ready to send, or None when the flow is done (or has failed)."""
        if self.failure is not None or self._next >= len(self._plan):
            return None
        planned = self._plan[self._next]
        self._otp = None
        try:
            prepared = self._prepare(planned)
        except MissingValue as exc:
            self.failure = str(exc.args[0])
            return None
        prepared.index = self._next
        self._next += 1
        return prepared

    def _prepare(self, planned: _Planned) -> Prepared:
        lookup = self._lookup
        req = planned.req
        if planned.url_stable:
            rendered = self.bindings.rendered
            url = rendered.get(req.url)
            if url is None:
                url = rendered[req.url] = render_pieces(planned.url, lookup, url_encode)
        else:
            url = render_pieces(planned.url, lookup, url_encode)
        if planned.static_headers is not None:
            headers = dict(planned.static_headers)
        elif planned.headers_key is not None:
            mine = self.bindings.rendered_headers.get(planned.headers_key)
            if mine is None:
                mine = self.bindings.rendered_headers[planned.headers_key] = {
                    k: render_pieces(v, lookup) for k, v in planned.headers
                }
            headers = dict(mine)
        else:
            headers = {k: render_pieces(v, lookup) for k, v in planned.headers}
        body: bytes | None = None
        if req.files:
            boundary = f"dvcwatch{uuid.uuid4().hex}"
            body = self._multipart(req, boundary)
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif req.form is not None:
            body = urlencode({k: render(v, lookup) for k, v in req.form.items()}).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif req.json_body is not None:
            body = json.dumps(render_value(req.json_body, lookup), ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        elif req.body is not None:
            body = render(req.body, lookup).encode()
        return Prepared(
            req.method,
            url,
            headers,
            body,
            planned.step,
            req.label,
            planned.think_seconds,
            planned.expect_status,
        )

    def _multipart(self, req: FlowRequest, boundary: str) -> bytes:
        lookup = self._lookup
        out: list[bytes] = []
        for name, value in (req.form or {}).items():
            out.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                + render(value, lookup).encode()
                + b"\r\n"
            )
        for upload in req.files:
            filename = render(upload.filename, lookup)
            data = upload_bytes(upload, f"{self.flow.service}:{upload.field}:{filename}")
            out.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{upload.field}"; '
                f'filename="{filename}"\r\nContent-Type: {upload.content_type}\r\n\r\n'.encode()
                + data
                + b"\r\n"
            )
        out.append(f"--{boundary}--\r\n".encode())
        return b"".join(out)

    def answer(self, prepared: Prepared, answer: Answer) -> str | None:
        """Check one answer and keep what it gives later requests. Returns why it failed, or None.
        A failure ends the replay: the rest of the flow depends on what this answer should have given."""
        reason = self._judge(prepared, answer)
        if reason is not None:
            self.failure = reason
        return reason

    def _judge(self, prepared: Prepared, answer: Answer) -> str | None:
        planned = self._plan[prepared.index]
        if self._trouble.checks and answer.body and _is_html(answer.headers, answer.body):
            trouble = self._trouble.reason(answer.body)
            if trouble is not None:
                return trouble
        if answer.status not in planned.expect_status:
            recorded = ", ".join(str(s) for s in planned.expect_status)
            return f"status {answer.status}, recorded {recorded}"
        req = planned.req
        if not req.extract:
            return None
        # the page is parsed only here, and only when an extraction reads its HTML
        view = AnswerView(answer.status, answer.headers, answer.body, answer.url)
        for rule in req.extract:
            value = view.extract(rule)
            if value is None or value == "":
                return f"no ${{{rule.name}}} in answer"
            self.values[rule.name] = value
        return None
