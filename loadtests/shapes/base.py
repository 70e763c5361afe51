"""What every load shape shares: a profile, a list of named stages, the users read off the clock.

A shape is a pure function of the time since the start (`at(t)`), so it can be unit-tested and
plotted without running Locust, and the report can say which stage each second belonged to. Stages
marked `steady` hold a level of load long enough to be measured (the knee and the held capacity
are read from them); the others are ramps.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from loadtests.profile import LoadProfile


@dataclass(frozen=True)
class Stage:
    index: int
    label: str
    start: float
    end: float
    users: int
    spawn_rate: float
    surge: bool = False
    steady: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "label": self.label,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "users": self.users,
            "spawn_rate": self.spawn_rate,
            "surge": self.surge,
            "steady": self.steady,
        }


@dataclass(frozen=True)
class Tick:
    users: int
    spawn_rate: float
    stage: Stage


class ShapePlan(ABC):
    """Base of the shape kinds: the profile's stages, and the target users at any second.

    Plain Python on purpose: importing Locust patches the interpreter with gevent, which only
    the Locust processes may have. `locust_shapes` turns a plan into a `LoadTestShape`."""

    kind: ClassVar[str] = ""

    def __init__(self, profile: LoadProfile) -> None:
        if profile.shape.kind != self.kind:
            raise TypeError(f"{type(self).__name__} runs {self.kind} profiles, not {profile.shape.kind}")
        self.profile = profile
        self.spec: Any = profile.shape
        self._stages = self.build_stages()

    @abstractmethod
    def build_stages(self) -> list[Stage]:
        """The stages of this kind, from the profile's shape section."""

    def stages(self) -> list[Stage]:
        return list(self._stages)

    @property
    def duration(self) -> float:
        return self._stages[-1].end

    def stage_at(self, t: float) -> Stage | None:
        for s in self._stages:
            if s.start <= t < s.end:
                return s
        return None

    def users_at(self, stage: Stage, t: float) -> int:
        """Target users at time t; a stage holds its level unless the kind says otherwise."""
        return stage.users

    def at(self, t: float) -> Tick | None:
        stage = self.stage_at(t)
        if stage is None:
            return None
        return Tick(self.users_at(stage, t), stage.spawn_rate, stage)
