"""`otp_lost`: the login goes on to the OTP page, but the code is never delivered.

Behavioural: the login routes ask `state.faults.hits("otp_lost", "otp", service)` when they send it."""

from __future__ import annotations

from sandbox_portal.faults.kinds.base import FaultKind

KIND = FaultKind("otp_lost")
