"""The `LoadTestShape` of each registered kind, and `ProfileShape`, the one the locustfile runs.

Locust takes the first shape class it finds in a locustfile and builds it without arguments,
before the command line is parsed; so `ProfileShape` reads the profile from the run context on its
first tick and follows that kind's plan. It is also where the safety limits bite: the user cap, the
duration cap, and stopping when a worker is lost, each recorded as the stop reason that marks the
report partial. In your own locustfile, `class Mine(SteppedRampShape): profile_file = "my.yaml"`
runs one kind directly: a `<Kind>Shape` class exists here for every kind in `loadtests.shapes.KINDS`.

It lives outside `loadtests/shapes/` because it imports `loadtests.profile`, which imports the shapes'
registry for its `shape:` union.
"""

from __future__ import annotations

import sys
from typing import Any, ClassVar

from locust import LoadTestShape

from loadtests.profile import load_load_profile
from loadtests.shapes import KINDS, shape_for
from loadtests.shapes.base import ShapePlan, Stage


class PlanShape(LoadTestShape):
    """A LoadTestShape that follows a plan; with the dvcwatch hooks installed, inside their limits."""

    abstract = True
    kind: ClassVar[str] = ""
    profile_file: ClassVar[str | None] = None

    def __init__(self) -> None:
        super().__init__()
        self.plan: ShapePlan | None = None

    def make_plan(self) -> ShapePlan:
        if not self.profile_file:
            raise TypeError(f"{type(self).__name__} needs profile_file = 'a load profile YAML'")
        profile, _ = load_load_profile(self.profile_file)
        return KINDS[self.kind].plan_for(profile.shape)

    def bind(self) -> ShapePlan:
        if self.plan is None:
            self.plan = self.make_plan()
        return self.plan

    def stages(self) -> list[Stage]:
        return self.bind().stages()

    def stage_index_at(self, t: float) -> int | None:
        st = self.bind().stage_at(t)
        return None if st is None else st.index

    def tick(self) -> tuple[int, float] | tuple[int, float, list[type]] | None:
        plan = self.bind()
        t = self.get_run_time()
        ctx = getattr(self.runner.environment, "dvc_run", None) if self.runner else None
        if ctx is not None:
            if t >= ctx.max_duration:
                ctx.stop_reason = f"the duration cap ({ctx.max_duration:g} s) ended the run"
                return None
            lost = lost_workers(self.runner, ctx.expected_workers)
            if lost:
                ctx.stop_reason = f"worker lost ({lost})"
                return None
        now = plan.at(t)
        if now is None:
            if ctx is not None:
                ctx.stop_reason = "completed"
            return None
        users = min(now.users, ctx.max_users) if ctx is not None else now.users
        classes = surge_classes(self.runner, now.stage.surge)
        if classes is None:
            return users, now.spawn_rate
        return users, now.spawn_rate, classes


class ProfileShape(PlanShape):
    """The kind named by the run's profile (`--dvc-profile`)."""

    abstract = False

    def make_plan(self) -> ShapePlan:
        from loadtests.context import run_context

        return shape_for(run_context(self.runner.environment).profile)


def kind_shape_class(kind: str) -> type[PlanShape]:
    """`stepped_ramp` → `SteppedRampShape`: a PlanShape for one kind, named as a vendor would import it."""
    name = "".join(part.title() for part in kind.split("_")) + "Shape"
    return type(name, (PlanShape,), {"kind": kind, "__module__": __name__, "__qualname__": name})


KIND_SHAPES: dict[str, type[PlanShape]] = {kind: kind_shape_class(kind) for kind in KINDS}
"""One importable class per registered kind (`from loadtests.locust_shape import SoakShape`)."""

# bound as module attributes so the import above works; derived, so a new kind needs no line here
for _cls in KIND_SHAPES.values():
    setattr(sys.modules[__name__], _cls.__name__, _cls)


def surge_classes(runner: Any, surge: bool) -> list[type] | None:
    """The user classes to run: the normal mix, plus the surging service's citizens in a surge.

    User classes say which they are with a `surge` class attribute; a locustfile without surge
    citizens gets None (Locust then runs all its classes)."""
    if runner is None:
        return None
    classes = list(runner.environment.user_classes)
    if not any(getattr(c, "surge", False) for c in classes):
        return None
    return [c for c in classes if surge or not getattr(c, "surge", False)]


def lost_workers(runner: Any, expected: int) -> str | None:
    """In distributed mode: a worker gone missing (no heartbeat) or fewer than expected left."""
    clients = getattr(runner, "clients", None)
    if clients is None or expected <= 0:
        return None
    missing = [c.id for c in clients.missing]
    if missing:
        return f"{len(missing)} missing: {', '.join(missing)}"
    if runner.worker_count < expected:
        return f"{runner.worker_count} of {expected} workers left"
    return None
