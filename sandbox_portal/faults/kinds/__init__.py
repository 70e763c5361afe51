"""The one place a sandbox fault kind is registered: its module's `KIND` goes here.

A new kind is a module here exporting `KIND = FaultKind(name, params, check=..., apply=...)` (see
`base.py`), plus one entry below; a parameter no kind has yet is also a field of `FaultSpec` in
`faults/model.py`. The faults YAML's `kind:` choices, which parameters each kind accepts, the checks,
the middleware's transport kinds and the capacity pools all derive from this map. The order is the
order kinds are listed in error messages.
"""

from __future__ import annotations

from sandbox_portal.faults.kinds import (
    backoffice_delay,
    capacity,
    downgrade,
    error,
    hang,
    latency,
    otp_lost,
    payment_failed,
    reset,
    soft_failure,
)
from sandbox_portal.faults.kinds.base import FaultKind

KINDS: dict[str, FaultKind] = {
    k.name: k
    for k in (
        latency.KIND,
        error.KIND,
        hang.KIND,
        reset.KIND,
        soft_failure.KIND,
        otp_lost.KIND,
        payment_failed.KIND,
        downgrade.KIND,
        capacity.KIND,
        backoffice_delay.KIND,
    )
}

__all__ = ["KINDS", "FaultKind"]
