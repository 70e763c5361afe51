"""`capacity`: a bounded pool of back-end workers; past it requests queue, and a full queue gets 503."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox_portal.faults.capacity import CapacityPool
from sandbox_portal.faults.kinds.base import FaultKind

if TYPE_CHECKING:
    from sandbox_portal.faults.model import FaultSpec

DEFAULTS = {"workers": 4, "service_time": 0.02, "queue": 100}


def pool(spec: FaultSpec) -> CapacityPool:
    return CapacityPool(
        int(spec.param("workers")),  # type: ignore[call-overload]
        float(spec.param("service_time")),  # type: ignore[arg-type]
        int(spec.param("queue")),  # type: ignore[call-overload]
    )


KIND = FaultKind("capacity", frozenset({"workers", "service_time", "queue"}), pool=pool, defaults=DEFAULTS)
