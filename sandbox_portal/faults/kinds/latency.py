"""`latency`: every matching request waits `seconds` (fixed, or drawn from a distribution) first."""

from __future__ import annotations

import asyncio
import math
import random
from typing import TYPE_CHECKING

from sandbox_portal.faults.kinds.base import FaultKind
from sandbox_portal.faults.params import Distribution

if TYPE_CHECKING:
    from aiohttp import web

    from sandbox_portal.faults.engine import ActiveFault
    from sandbox_portal.faults.model import FaultSpec


def delay(spec: FaultSpec) -> float:
    """Seconds to wait: fixed, or drawn from the fault's distribution."""
    sec = spec.seconds
    if not isinstance(sec, Distribution):
        return float(sec or 0)
    if sec.distribution == "lognormal":
        return random.lognormvariate(math.log(sec.median), sec.sigma())  # type: ignore[arg-type]
    if sec.distribution == "uniform":
        return random.uniform(sec.min, sec.max)  # type: ignore[arg-type]
    return random.expovariate(1 / sec.mean)  # type: ignore[operator]


def check(spec: FaultSpec) -> None:
    if spec.seconds is None:
        raise ValueError("a latency fault needs seconds (a number or a distribution)")


async def apply(fault: ActiveFault, request: web.Request) -> None:
    await asyncio.sleep(delay(fault.spec))


KIND = FaultKind("latency", frozenset({"seconds"}), check=check, apply=apply)
