"""`downgrade`: a full (toàn trình) service quietly loses its online payment, its online result, or both.

Behavioural: `sandbox_portal.dossiers` asks `state.faults.hits("downgrade", ..., what=...)`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox_portal.faults.kinds.base import FaultKind, service_of

if TYPE_CHECKING:
    from sandbox_portal.faults.model import FaultSpec


def check(spec: FaultSpec) -> None:
    """A fault that can never fire on its service is refused, like a typo: nobody would see it."""
    if spec.service is None:
        return
    svc = service_of(spec)
    if svc.level != "full":
        raise ValueError(f"downgrade needs a full (toàn trình) service; {svc.id} is partial")
    if not svc.charges_fee and spec.what == "payment":
        raise ValueError(f"downgrade of the payment needs a fee; {svc.id} is free (what: result or both)")


KIND = FaultKind("downgrade", frozenset({"what"}), check=check)
