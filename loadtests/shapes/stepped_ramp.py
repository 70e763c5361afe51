"""Stepped ramp: equal steps of users, each held long enough to be measured; finds the knee."""

from __future__ import annotations

from loadtests.shapes.base import ShapePlan, Stage


class SteppedRamp(ShapePlan):
    kind = "stepped_ramp"

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
