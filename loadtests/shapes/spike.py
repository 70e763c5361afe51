"""Spike: a crowd arrives at once, then leaves; the recovery stage shows whether the portal heals."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from loadtests.shapes.base import ShapeKind, ShapePlan, Stage, Strict


class Spike(Strict):
    """A sudden crowd (a news item, a reopened portal): how deep the fall, how fast the recovery."""

    kind: Literal["spike"]
    base_users: int = Field(ge=1)
    spike_users: int = Field(ge=1)
    before_seconds: float = Field(ge=0)
    spike_seconds: float = Field(gt=0)
    recovery_seconds: float = Field(ge=0)
    spawn_rate: float = Field(gt=0, description="should be high: a spike arrives at once")


class SpikePlan(ShapePlan):
    spec: Spike

    def build_stages(self) -> list[Stage]:
        s = self.spec
        stages = []
        t = 0.0
        if s.before_seconds > 0:
            stages.append(Stage(0, "before the spike", 0, s.before_seconds, s.base_users, s.spawn_rate))
            t = s.before_seconds
        stages.append(Stage(len(stages), "spike", t, t + s.spike_seconds, s.spike_users, s.spawn_rate))
        t += s.spike_seconds
        if s.recovery_seconds > 0:
            stages.append(
                Stage(len(stages), "recovery", t, t + s.recovery_seconds, s.base_users, s.spawn_rate)
            )
        return stages


KIND = ShapeKind(Spike, SpikePlan)
