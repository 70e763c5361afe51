"""Soak: one level of load for hours; what breaks slowly (leaks, queues, sessions) shows here."""

from __future__ import annotations

from loadtests.shapes.base import ShapePlan, Stage


class Soak(ShapePlan):
    kind = "soak"

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
