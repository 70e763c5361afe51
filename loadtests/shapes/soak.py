"""Soak: one level of load for hours; what breaks slowly (leaks, queues, sessions) shows here."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from loadtests.shapes.base import ShapeKind, ShapePlan, Stage, Strict


class Soak(Strict):
    """Constant load for a long time: leaks, queues that never drain, certificates that expire."""

    kind: Literal["soak"]
    users: int = Field(ge=1)
    ramp_seconds: float = Field(ge=0)
    hold_seconds: float = Field(gt=0)
    spawn_rate: float = Field(gt=0)


class SoakPlan(ShapePlan):
    spec: Soak

    def build_stages(self) -> list[Stage]:
        s = self.spec
        stages = []
        if s.ramp_seconds > 0:
            stages.append(Stage(0, "ramp", 0, s.ramp_seconds, s.users, s.spawn_rate, steady=False))
        stages.append(
            Stage(
                len(stages),
                f"soak: {s.users} users",
                s.ramp_seconds,
                s.ramp_seconds + s.hold_seconds,
                s.users,
                s.spawn_rate,
            )
        )
        return stages


KIND = ShapeKind(Soak, SoakPlan)
