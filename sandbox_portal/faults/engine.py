"""The active faults and the question every request asks: which of them hit me?

A fault matches a request when its scope fits (service, step, endpoint prefix), the sandbox clock is
inside its window and a draw falls under its ratio. With no faults the answer is an empty tuple at
the cost of one attribute read, so a healthy portal pays nothing for the machinery.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from dataclasses import dataclass, field

from sandbox_portal.clock import SandboxClock
from sandbox_portal.faults.capacity import CapacityPool
from sandbox_portal.faults.kinds import KINDS
from sandbox_portal.faults.model import FaultFile, FaultSpec, Window

# Kinds applied around the handler by the middleware; the others change what a page does.
TRANSPORT_KINDS = tuple(name for name, k in KINDS.items() if k.transport)


@dataclass
class ActiveFault:
    id: str
    spec: FaultSpec
    pool: CapacityPool | None = None
    hits: int = 0

    def in_scope(self, step: str | None, service: str | None, path: str, now: float) -> bool:
        s = self.spec
        if s.step is not None and s.step != step:
            return False
        if s.service is not None and s.service != service:
            return False
        if s.endpoint is not None and not path.startswith(s.endpoint):
            return False
        return s.window is None or _inside(s.window, now)

    def fires(self, step: str | None, service: str | None, path: str, now: float) -> bool:
        if not self.in_scope(step, service, path, now):
            return False
        if self.spec.ratio < 1 and random.random() >= self.spec.ratio:
            return False
        self.hits += 1
        return True

    def public(self, now: float) -> dict[str, object]:
        out: dict[str, object] = {"id": self.id, **self.spec.public(), "hits": self.hits}
        w = self.spec.window
        out["active_now"] = w is None or _inside(w, now)
        if self.pool is not None:
            out.update(self.pool.describe())
        return out


def _inside(window: Window, now: float) -> bool:
    return window.start <= now and (window.end is None or now < window.end)


@dataclass
class FaultSet:
    clock: SandboxClock
    faults: list[ActiveFault] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def _activate(self, spec: FaultSpec) -> ActiveFault:
        make_pool = KINDS[spec.kind].pool
        return ActiveFault(f"f{next(self._ids)}", spec, make_pool(spec) if make_pool else None)

    def replace(self, doc: FaultFile) -> list[ActiveFault]:
        self.faults = [self._activate(s) for s in doc.faults]
        return self.faults

    def add(self, doc: FaultFile) -> list[ActiveFault]:
        new = [self._activate(s) for s in doc.faults]
        self.faults = [*self.faults, *new]
        return new

    def remove(self, fault_id: str) -> bool:
        before = len(self.faults)
        self.faults = [f for f in self.faults if f.id != fault_id]
        return len(self.faults) != before

    def clear(self) -> None:
        self.faults = []

    def transport(self, step: str | None, service: str | None, path: str) -> list[ActiveFault]:
        """Faults of the kinds the middleware applies that hit this request, in declaration order."""
        if not self.faults:
            return []
        now = self.clock.now()
        return [
            f for f in self.faults if f.spec.kind in TRANSPORT_KINDS and f.fires(step, service, path, now)
        ]

    def hits(
        self, kind: str, step: str | None, service: str | None, path: str = "", what: str | None = None
    ) -> ActiveFault | None:
        """The first fault of a behavioural kind (otp_lost, payment_failed, downgrade) that fires here;
        for downgrade, `what` (payment or result) must be among what the fault takes away."""
        if not self.faults:
            return None
        now = self.clock.now()
        for f in self.faults:
            if f.spec.kind != kind:
                continue
            if what is not None and (f.spec.what or "both") not in (what, "both"):
                continue
            if f.fires(step, service, path, now):
                return f
        return None

    def scheduled(self, kind: str, service: str, when: float, key: str) -> ActiveFault | None:
        """The first fault of `kind` in scope for `service` at sandbox time `when` (not now: a dossier's
        fate is set by when it was received), its ratio drawn from `key` so each look agrees."""
        for f in self.faults:
            if f.spec.kind != kind or not f.in_scope(None, service, "", when):
                continue
            if f.spec.ratio < 1:
                draw = int.from_bytes(hashlib.sha256(f"{f.id}|{key}".encode()).digest()[:8]) / 2**64
                if draw >= f.spec.ratio:
                    continue
            return f
        return None

    def capacity_rps(self) -> float | None:
        now = self.clock.now()
        pools = [
            f.pool
            for f in self.faults
            if f.pool is not None
            and f.spec.service is None
            and f.spec.step is None
            and f.public(now)["active_now"]
        ]
        if not pools:
            pools = [f.pool for f in self.faults if f.pool is not None]
        return round(min(p.rps for p in pools), 3) if pools else None

    def describe(self) -> dict[str, object]:
        now = self.clock.now()
        out: dict[str, object] = {
            "faults": [f.public(now) for f in self.faults],
            "clock": round(now, 3),
            "clock_speed": self.clock.speed,
        }
        rps = self.capacity_rps()
        if rps is not None:
            out["capacity_rps"] = rps
        return out
