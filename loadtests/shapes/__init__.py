"""The kinds of load, each driven by a YAML profile (`loadtests/profiles/`).

`shape_for(profile)` picks the kind's plan, like blackbox_exporter's prober map. The plans are plain
Python (tests and `dvcwatch load` read them without Locust); `locust_shapes` holds the
`LoadTestShape` of each kind and `ProfileShape`, which the locustfile runs: the kind named by
`--dvc-profile`, inside the run's safety limits.
"""

from __future__ import annotations

from loadtests.profile import LoadProfile
from loadtests.shapes.base import ShapePlan, Stage, Tick
from loadtests.shapes.deadline_surge import DeadlineSurge
from loadtests.shapes.monday_rush import MondayRush
from loadtests.shapes.soak import Soak
from loadtests.shapes.spike import Spike
from loadtests.shapes.stepped_ramp import SteppedRamp

SHAPES: dict[str, type[ShapePlan]] = {
    cls.kind: cls for cls in (SteppedRamp, MondayRush, DeadlineSurge, Spike, Soak)
}

__all__ = ["SHAPES", "ShapePlan", "Stage", "Tick", "shape_for"]


def shape_for(profile: LoadProfile) -> ShapePlan:
    return SHAPES[profile.shape.kind](profile)
