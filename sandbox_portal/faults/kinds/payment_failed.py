"""`payment_failed`: the citizen gets through the bank step and the transaction fails after it.

Behavioural: the payment gateway route asks `state.faults.hits("payment_failed", "payment", service)`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox_portal.faults.kinds.base import FaultKind, service_of

if TYPE_CHECKING:
    from sandbox_portal.faults.model import FaultSpec


def check(spec: FaultSpec) -> None:
    """A fault that can never fire on its service is refused, like a typo: nobody would see it."""
    if spec.service is not None and not service_of(spec).charges_fee:
        raise ValueError(f"payment_failed needs a service that charges a fee; {spec.service} is free")


KIND = FaultKind("payment_failed", frozenset({"message"}), check=check)
