"""Monday-morning rush: before 08:00, the climb as offices open, the peak, the decay to afternoon."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from loadtests.shapes.base import ShapeKind, ShapePlan, Stage, Strict


class MondayRush(Strict):
    """The portal opens on Monday 08:00: a quiet start, a steep climb, a long peak, a slow decay."""

    kind: Literal["monday_rush"]
    baseline_users: int = Field(ge=1)
    peak_users: int = Field(ge=1)
    baseline_seconds: float = Field(ge=0)
    climb_seconds: float = Field(gt=0)
    peak_seconds: float = Field(gt=0)
    decay_seconds: float = Field(ge=0)
    afternoon_users: int = Field(ge=0)

    @model_validator(mode="after")
    def _peak_is_highest(self) -> MondayRush:
        if self.peak_users < self.baseline_users:
            raise ValueError("peak_users must be at least baseline_users")
        return self


class MondayRushPlan(ShapePlan):
    spec: MondayRush

    def build_stages(self) -> list[Stage]:
        s = self.spec
        t0 = s.baseline_seconds
        t1 = t0 + s.climb_seconds
        t2 = t1 + s.peak_seconds
        t3 = t2 + s.decay_seconds
        climb_rate = max(1.0, (s.peak_users - s.baseline_users) / s.climb_seconds * 2)
        decay_rate = max(1.0, abs(s.peak_users - s.afternoon_users) / max(s.decay_seconds, 1) * 2)
        stages = []
        if s.baseline_seconds > 0:
            stages.append(Stage(0, "before 08:00", 0, t0, s.baseline_users, max(1.0, s.baseline_users / 2)))
        stages.append(Stage(len(stages), "08:00 climb", t0, t1, s.peak_users, climb_rate, steady=False))
        stages.append(Stage(len(stages), "morning peak", t1, t2, s.peak_users, climb_rate))
        if s.decay_seconds > 0:
            stages.append(
                Stage(len(stages), "decay to afternoon", t2, t3, s.afternoon_users, decay_rate, steady=False)
            )
        return stages

    def users_at(self, stage: Stage, t: float) -> int:
        """The climb and the decay are straight lines, re-aimed every second."""
        s = self.spec
        if stage.label == "08:00 climb":
            frac = (t - stage.start) / (stage.end - stage.start)
            return max(1, round(s.baseline_users + frac * (s.peak_users - s.baseline_users)))
        if stage.label == "decay to afternoon":
            frac = (t - stage.start) / (stage.end - stage.start)
            return max(1, round(s.peak_users + frac * (s.afternoon_users - s.peak_users)))
        return stage.users


KIND = ShapeKind(MondayRush, MondayRushPlan)
