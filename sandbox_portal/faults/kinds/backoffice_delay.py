"""`backoffice_delay`: the agency answers its dossiers late, `seconds` (sandbox seconds) after the date
it promised, or never (no `seconds`: the dossier stays "processing").

Behavioural, and decided per dossier: `sandbox_portal.backoffice` asks `state.faults.scheduled(...)`
with the sandbox time the dossier was received, so the fault's window says which dossiers it delays
(those received inside it) and its ratio picks the same dossiers at every look. With the default fast
back office a delay counts from the ~1 second it otherwise takes; with `backoffice: real` from the
service's processing time (see docs/sandbox.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox_portal.faults.kinds.base import FaultKind

if TYPE_CHECKING:
    from sandbox_portal.faults.model import FaultSpec


def check(spec: FaultSpec) -> None:
    """A scope no dossier has (a step, an endpoint) is refused, like a typo: nobody would see it."""
    if spec.step is not None or spec.endpoint is not None:
        raise ValueError("backoffice_delay is scoped by service and window, not by step or endpoint")
    if spec.seconds is not None and not isinstance(spec.seconds, float | int):
        raise ValueError(
            "backoffice_delay takes seconds as a number (sandbox seconds late), not a distribution"
        )


KIND = FaultKind("backoffice_delay", frozenset({"seconds"}), check=check)
