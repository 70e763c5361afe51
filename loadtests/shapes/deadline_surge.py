"""Deadline surge: the last day of exam registration. One service at many times its normal share.

The normal mix keeps its users; the surging service gets extra citizens of its own so that its
traffic alone is `multiplier` times what it usually is: extra = users × share × (multiplier − 1).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dvcwatch.core.catalog import load_catalog
from loadtests.shapes.base import ShapeKind, ShapePlan, Stage, Strict


def service_share(service_id: str) -> float:
    """The service's share of the field's volume (catalog weights)."""
    cat = load_catalog()
    cat.service(service_id)  # unknown ids fail here, with close matches named
    total = sum(s.volume.weight for s in cat.services)
    return next(s.volume.weight for s in cat.services if s.id == service_id) / total


def surge_extra_users(users: int, service_id: str, multiplier: float) -> int:
    return max(1, round(users * service_share(service_id) * (multiplier - 1)))


class DeadlineSurge(Strict):
    """The last day of a deadline: one service at `multiplier` times its normal share, the rest as usual."""

    kind: Literal["deadline_surge"]
    service: str
    multiplier: float = Field(gt=1, le=1000)
    users: int = Field(ge=1, description="citizens on the normal mix")
    before_seconds: float = Field(ge=0)
    surge_seconds: float = Field(gt=0)
    after_seconds: float = Field(ge=0)
    spawn_rate: float = Field(gt=0)


class DeadlineSurgePlan(ShapePlan):
    spec: DeadlineSurge

    def build_stages(self) -> list[Stage]:
        s = self.spec
        extra = surge_extra_users(s.users, s.service, s.multiplier)
        stages = []
        t = 0.0
        if s.before_seconds > 0:
            stages.append(Stage(0, "ordinary day", 0, s.before_seconds, s.users, s.spawn_rate))
            t = s.before_seconds
        stages.append(
            Stage(
                len(stages),
                f"deadline: {s.service} ×{s.multiplier:g}",
                t,
                t + s.surge_seconds,
                s.users + extra,
                s.spawn_rate,
                surge=True,
            )
        )
        t += s.surge_seconds
        if s.after_seconds > 0:
            stages.append(
                Stage(len(stages), "after the deadline", t, t + s.after_seconds, s.users, s.spawn_rate)
            )
        return stages


KIND = ShapeKind(DeadlineSurge, DeadlineSurgePlan)
