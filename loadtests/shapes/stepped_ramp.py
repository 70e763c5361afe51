"""Stepped ramp: equal steps of users, each held long enough to be measured; finds the knee."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from loadtests.shapes.base import ShapeKind, ShapePlan, Stage, Strict


class SteppedRamp(Strict):
    """Add users in equal steps and hold each step long enough to measure it: finds the knee."""

    kind: Literal["stepped_ramp"]
    start_users: int = Field(ge=1)
    step_users: int = Field(ge=1)
    steps: int = Field(ge=2, le=200)
    step_seconds: float = Field(gt=0)
    spawn_rate: float = Field(gt=0, description="users started per second when a step begins")


class SteppedRampPlan(ShapePlan):
    spec: SteppedRamp

    def build_stages(self) -> list[Stage]:
        s = self.spec
        return [
            Stage(
                index=i,
                label=f"step {i + 1}: {s.start_users + i * s.step_users} users",
                start=i * s.step_seconds,
                end=(i + 1) * s.step_seconds,
                users=s.start_users + i * s.step_users,
                spawn_rate=s.spawn_rate,
            )
            for i in range(s.steps)
        ]


KIND = ShapeKind(SteppedRamp, SteppedRampPlan)
