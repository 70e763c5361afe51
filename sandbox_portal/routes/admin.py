"""The admin API under /_sandbox: change faults at run time, read the clock and the counts.

Every call needs `Authorization: Bearer <token>`; without it the answer is 401 and nothing changes.
A body that does not parse or validate is a 400 naming the line and field; nothing changes either.
"""

from __future__ import annotations

import hmac
import time
from collections import Counter
from collections.abc import Awaitable, Callable

from aiohttp import web

from dvcwatch.core.errors import ConfigError
from sandbox_portal.backoffice import status_of
from sandbox_portal.faults.loading import parse_faults_text
from sandbox_portal.faults.model import FaultFile
from sandbox_portal.rendering import json_response
from sandbox_portal.routes.common import state_of

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def admin(handler: Handler) -> Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        token = state_of(request).admin_token
        given = request.headers.get("Authorization", "")
        if not given.startswith("Bearer ") or not hmac.compare_digest(given[7:].strip(), token):
            return json_response({"error": "admin token required: Authorization: Bearer <token>"}, status=401)
        return await handler(request)

    guarded.__name__ = handler.__name__
    guarded.__doc__ = handler.__doc__
    return guarded


async def _parse(request: web.Request) -> FaultFile | web.Response:
    text = await request.text()
    try:
        return parse_faults_text(text, "request body")
    except ConfigError as exc:
        return json_response({"error": str(exc)}, status=400)


@admin
async def list_faults(request: web.Request) -> web.Response:
    return json_response(state_of(request).faults.describe())


@admin
async def replace_faults(request: web.Request) -> web.Response:
    doc = await _parse(request)
    if isinstance(doc, web.Response):
        return doc
    st = state_of(request)
    st.faults.replace(doc)
    return json_response(st.faults.describe())


@admin
async def add_faults(request: web.Request) -> web.Response:
    doc = await _parse(request)
    if isinstance(doc, web.Response):
        return doc
    st = state_of(request)
    new = st.faults.add(doc)
    now = st.clock.now()
    return json_response({"added": [f.public(now) for f in new], **st.faults.describe()}, status=201)


@admin
async def clear_faults(request: web.Request) -> web.Response:
    st = state_of(request)
    st.faults.clear()
    return json_response(st.faults.describe())


@admin
async def delete_fault(request: web.Request) -> web.Response:
    st = state_of(request)
    if not st.faults.remove(request.match_info["id"]):
        return json_response({"error": f"no active fault {request.match_info['id']!r}"}, status=404)
    return json_response(st.faults.describe())


@admin
async def clock(request: web.Request) -> web.Response:
    """The sandbox clock, plus the portal's calendar now (what its pages date things by) and its pace."""
    st = state_of(request)
    today = st.clock.calendar(time.time()).isoformat(timespec="seconds")
    return json_response({**st.clock.describe(), "calendar": today, "backoffice": st.backoffice})


@admin
async def stats(request: web.Request) -> web.Response:
    st = state_of(request)
    statuses = Counter(status_of(d, st) for d in st.storage.dossiers.values())
    payments = Counter(p.status for p in st.storage.payments.values())
    by_service = Counter(d.service for d in st.storage.dossiers.values())
    return json_response(
        {
            "dossiers": len(st.storage.dossiers),
            "dossiers_by_status": dict(statuses),
            "dossiers_by_service": dict(by_service),
            "payments": len(st.storage.payments),
            "payments_by_status": dict(payments),
            "accounts": len(st.accounts.people),
            "clock": st.clock.describe(),
        }
    )


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/_sandbox/faults", list_faults)
    r.add_put("/_sandbox/faults", replace_faults)
    r.add_post("/_sandbox/faults", add_faults)
    r.add_delete("/_sandbox/faults", clear_faults)
    r.add_delete("/_sandbox/faults/{id}", delete_fault)
    r.add_get("/_sandbox/clock", clock)
    r.add_get("/_sandbox/stats", stats)
