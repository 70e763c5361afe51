"""What every load shape shares: its YAML model, a list of named stages, the users read off the clock, `ShapeKind`.

A shape is a pure function of the time since the start (`at(t)`), so it can be unit-tested and
plotted without running Locust, and the report can say which stage each second belonged to. Stages
marked `steady` hold a level of load long enough to be measured (the knee and the held capacity
are read from them); the others are ramps.

One module per kind holds its model (a `Strict` with `kind: Literal["<kind>"]`) beside its plan and
exports both as `KIND = ShapeKind(Model, Plan)`; `loadtests.shapes` registers each once. Nothing here
imports a kind or the profile, so the kinds and `loadtests.profile` import this without a loop.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
    """Base of the shape plans: the stages of a profile's shape section, and the target users at any second.

    Plain Python on purpose: importing Locust patches the interpreter with gevent, which only
    the Locust processes may have. `loadtests.locust_shape` turns a plan into a `LoadTestShape`."""

    def __init__(self, spec: Any) -> None:
        self.spec: Any = spec
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


@dataclass(frozen=True)
class ShapeKind:
    """A shape kind as registered in `loadtests.shapes`: its YAML model and its plan.

    The name is the model's `kind` literal, so it is spelled once; a model without one is refused here,
    when its module is imported, rather than as a confusing union error on the first profile."""

    model: type[Strict]
    plan: type[ShapePlan]

    def __post_init__(self) -> None:
        field = self.model.model_fields.get("kind")
        literal = field.annotation if field is not None else None
        if get_origin(literal) is not Literal or len(get_args(literal)) != 1:
            raise TypeError(f"{self.model.__name__} needs a field kind: Literal['<kind>'] to be a shape kind")
        if not (isinstance(self.plan, type) and issubclass(self.plan, ShapePlan)):
            raise TypeError(f"the plan of shape kind {self.name} must be a ShapePlan subclass")

    @property
    def name(self) -> str:
        return str(get_args(self.model.model_fields["kind"].annotation)[0])

    def plan_for(self, spec: Any) -> ShapePlan:
        """This kind's plan for a profile's shape section; a section of another kind is refused."""
        if not isinstance(spec, self.model):
            raise TypeError(
                f"{self.plan.__name__} runs {self.name} profiles, not {getattr(spec, 'kind', spec)}"
            )
        return self.plan(spec)
