"""The one place a load shape kind is registered: its module's `KIND` (YAML model and plan) goes here.

A new kind is a module under `loadtests/shapes/` holding a `Strict` model with `kind: Literal[...]` and a
`ShapePlan`, exported as `KIND = ShapeKind(Model, Plan)`, plus one entry below (like blackbox_exporter's
prober map). The profile's `shape:` union, `shape_for` and the Locust adapter (`loadtests.locust_shape`,
which the locustfile runs) all derive from this map. The plans are plain Python: tests and
`dvcwatch load` read them without Locust.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import Field

from loadtests.shapes import deadline_surge, monday_rush, soak, spike, stepped_ramp
from loadtests.shapes.base import ShapeKind, ShapePlan, Stage, Tick

KINDS: dict[str, ShapeKind] = {
    k.name: k for k in (stepped_ramp.KIND, monday_rush.KIND, deadline_surge.KIND, spike.KIND, soak.KIND)
}

if TYPE_CHECKING:
    ShapeSpec = Any
else:
    ShapeSpec = Annotated[Union[tuple(k.model for k in KINDS.values())], Field(discriminator="kind")]  # noqa: UP007
"""A profile's `shape:` section of any registered kind, as pydantic validates it (chosen by its `kind`)."""

__all__ = ["KINDS", "ShapeKind", "ShapePlan", "ShapeSpec", "Stage", "Tick", "shape_for"]


def shape_for(profile: Any) -> ShapePlan:
    """The plan of a load profile's shape (`profile.shape`, a model of a registered kind)."""
    return KINDS[profile.shape.kind].plan_for(profile.shape)
