"""Spike: a crowd arrives at once, then leaves; the recovery stage shows whether the portal heals."""

from __future__ import annotations

from loadtests.shapes.base import ShapePlan, Stage


class Spike(ShapePlan):
    kind = "spike"

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
