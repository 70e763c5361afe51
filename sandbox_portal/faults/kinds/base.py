"""What a fault kind is: its name, the parameters it takes, what it refuses, and what it does.

A transport kind (`apply`) acts around the portal's handler, in the order the faults were declared:
it waits, hangs up, or answers instead of the handler (returning a response); returning None lets the
request go on. A behavioural kind has no `apply`: a route asks `state.faults.hits(kind, ...)` at the
point where the portal would misbehave (the OTP never sent, the bank refusing, a service downgraded).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web

    from sandbox_portal.faults.capacity import CapacityPool
    from sandbox_portal.faults.engine import ActiveFault
    from sandbox_portal.faults.model import FaultSpec

Apply = Callable[["ActiveFault", "web.Request"], Awaitable["web.StreamResponse | None"]]


@dataclass(frozen=True)
class FaultKind:
    name: str
    params: frozenset[str] = frozenset()  # the kind-specific keys of `FaultSpec` it accepts
    check: Callable[[FaultSpec], None] | None = None  # raises ValueError for a fault that cannot work
    apply: Apply | None = None  # transport kinds only (see the module docstring)
    pool: Callable[[FaultSpec], CapacityPool] | None = None  # a kind that queues requests for a worker
    defaults: Mapping[str, object] = field(default_factory=dict)  # parameter values when omitted

    @property
    def transport(self) -> bool:
        return self.apply is not None or self.pool is not None


def service_of(spec: FaultSpec):  # type: ignore[no-untyped-def]
    """The catalog's service the fault is scoped to (a checked id)."""
    from dvcwatch.core.catalog import load_catalog

    return load_catalog().service(spec.service or "")
