"""Which step of a citizen's path (and which service) a request belongs to.

Faults target steps and services, so every request is attributed to exactly one step of the shared
vocabulary (or none: health, static files) and, when it has one, one service. Handlers declare their
step with `@step(...)`; the service comes from the URL (service id, draft, dossier code, payment
transaction), from the `next` address a login form carries, or from the API request body.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from sandbox_portal.state import PortalState

StepRule = str | Callable[[web.Request, PortalState], str | None] | None


def step(rule: StepRule) -> Callable[[Any], Any]:
    """Declare the step a handler serves: a name, or a function of the request for pages that
    serve two (the review page is `payment` until the fee is paid, then `submit`)."""

    def mark(handler: Any) -> Any:
        handler.dvc_step = rule
        return handler

    return mark


def service_from_path(path: str | None, state: PortalState) -> str | None:
    """`/nop-ho-so/<service>/…` or `/dich-vu/<service>` inside a `next` address."""
    if not path:
        return None
    parts = urlsplit(path).path.strip("/").split("/")
    if len(parts) >= 2 and parts[0] in ("nop-ho-so", "dich-vu") and parts[1] in state.services:
        return parts[1]
    if len(parts) >= 2 and parts[0] == "ho-so":
        d = state.storage.dossiers.get(parts[1])
        return d.service if d else None
    return None


def part_text(part: object) -> str:
    """A multipart part as text, whether aiohttp parsed it as text, bytes or a file."""
    if part is None:
        return ""
    if isinstance(part, str):
        return part
    if isinstance(part, bytes | bytearray):
        return bytes(part).decode("utf-8", "replace")
    file = getattr(part, "file", None)
    if file is not None:
        pos = file.tell()
        text = file.read().decode("utf-8", "replace")
        file.seek(pos)
        return text
    return str(part)


async def _service_from_body(request: web.Request, state: PortalState) -> str | None:
    ctype = request.content_type
    if request.method != "POST" or not request.can_read_body:
        return None
    if ctype == "application/json":
        try:
            body = await request.json()
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        if isinstance(body.get("service"), str):
            return body["service"] if body["service"] in state.services else None
        ch = state.accounts.challenges.get(str(body.get("challenge", "")))
        return ch.service if ch else None
    if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()  # cached by aiohttp: the handler reads the same parsed body
        svc = form.get("service")
        if isinstance(svc, str) and svc in state.services:
            return svc
        data = form.get("data")
        if data is not None and ctype == "multipart/form-data":
            try:
                parsed = json.loads(part_text(data))
            except ValueError:
                return None
            svc = parsed.get("service") if isinstance(parsed, dict) else None
            return svc if isinstance(svc, str) and svc in state.services else None
        nxt = form.get("next")
        return service_from_path(nxt if isinstance(nxt, str) else None, state)
    return None


async def attribute(request: web.Request, state: PortalState) -> tuple[str | None, str | None]:
    handler = request.match_info.handler
    rule = getattr(handler, "dvc_step", None)
    step_name = rule(request, state) if callable(rule) else rule
    mi = request.match_info
    service: str | None = None
    if "service" in mi:
        service = mi["service"] if mi["service"] in state.services else None
    elif "code" in mi:
        d = state.storage.dossiers.get(mi["code"])
        service = d.service if d else None
    elif "txn" in mi:
        p = state.storage.payments.get(mi["txn"])
        service = p.service if p else None
    if service is None and step_name in ("login", "otp", "submit", "tracking", "result"):
        service = service_from_path(request.query.get("next"), state)
        if service is None and "ma" in request.query:
            d = state.storage.dossiers.get(request.query["ma"].strip())
            service = d.service if d else None
        if service is None and "cccd" in request.query:
            ch = state.accounts.latest_otp.get(request.query["cccd"])
            service = ch.service if ch else None
        if service is None:
            service = await _service_from_body(request, state)
    return step_name, service
