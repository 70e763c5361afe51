"""The shapes a fault's parameters take (a window on the sandbox clock, a latency distribution).

Apart from `model` so that the kind modules can use them while `model` reads the kinds' registry."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Window(Strict):
    """Seconds on the sandbox clock (seconds since start × clock speed); `end` omitted = open-ended."""

    start: float = Field(0, ge=0)
    end: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end is not None and self.end <= self.start:
            raise ValueError("window end must be after its start")
        return self


class Distribution(Strict):
    """A latency drawn per request. lognormal: median + p99; uniform: min + max; exponential: mean."""

    distribution: Literal["lognormal", "uniform", "exponential"]
    median: float | None = Field(None, gt=0)
    p99: float | None = Field(None, gt=0)
    min: float | None = Field(None, ge=0)
    max: float | None = Field(None, gt=0)
    mean: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _complete(self) -> Distribution:
        need = {"lognormal": ("median", "p99"), "uniform": ("min", "max"), "exponential": ("mean",)}
        missing = [k for k in need[self.distribution] if getattr(self, k) is None]
        if missing:
            raise ValueError(f"a {self.distribution} distribution needs {' and '.join(missing)}")
        if self.distribution == "lognormal" and self.p99 < self.median:  # type: ignore[operator]
            raise ValueError("p99 must be at least the median")
        if self.distribution == "uniform" and self.max < self.min:  # type: ignore[operator]
            raise ValueError("max must be at least min")
        return self

    def sigma(self) -> float:
        return math.log(self.p99 / self.median) / 2.3263478740408408  # type: ignore[operator]
