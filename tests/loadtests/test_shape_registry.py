"""A load shape kind lives in one module (its YAML model beside its plan) and is registered once, in
`loadtests.shapes`: the profile's `shape:` union and the Locust adapter derive from that map, so a kind
half-registered (a module not in the map, a model without its `kind`, a plan that is not one) is caught."""

from __future__ import annotations

import importlib
import pkgutil
import re
import subprocess
import sys
from typing import Literal

import pytest
from pydantic import Field

import loadtests.shapes
from dvcwatch.core.errors import ConfigError
from loadtests.profile import load_load_profile
from loadtests.shapes import KINDS
from loadtests.shapes.base import ShapeKind, ShapePlan, Stage, Strict


def kind_modules() -> dict[str, object]:
    """Every module of `loadtests/shapes/` that exports a `KIND`."""
    found = {}
    for info in pkgutil.iter_modules(loadtests.shapes.__path__):
        module = importlib.import_module(f"loadtests.shapes.{info.name}")
        if hasattr(module, "KIND"):
            found[info.name] = module.KIND
    return found


def test_every_kind_module_is_registered_once_under_its_own_name() -> None:
    modules = kind_modules()
    assert set(modules) == set(KINDS) == {"stepped_ramp", "monday_rush", "deadline_surge", "spike", "soak"}
    for name, kind in KINDS.items():
        assert kind is modules[name] and kind.name == name
        assert kind.model.__module__ == kind.plan.__module__ == f"loadtests.shapes.{name}"


def test_the_profile_accepts_exactly_the_registered_kinds(tmp_path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("name: p\nshape: {kind: sawtooth, users: 3}\n")
    with pytest.raises(ConfigError) as err:
        load_load_profile(str(path))
    named = set(re.findall(r"'(\w+)'", str(err.value).split("expected tags:")[1]))
    assert named == set(KINDS)


class Plain(Strict):
    users: int = Field(ge=1)


class Flat(ShapePlan):
    def build_stages(self) -> list[Stage]:
        return [Stage(0, "flat", 0, 10, self.spec.users, 1.0)]


def test_a_model_without_its_kind_literal_is_refused() -> None:
    with pytest.raises(TypeError, match=r"Plain needs a field kind: Literal"):
        ShapeKind(Plain, Flat)


def test_a_plan_that_is_not_a_shape_plan_is_refused() -> None:
    class Sawtooth(Strict):
        kind: Literal["sawtooth"]

    with pytest.raises(TypeError, match="must be a ShapePlan subclass"):
        ShapeKind(Sawtooth, object)  # type: ignore[arg-type]


def test_a_plan_refuses_another_kinds_shape_section() -> None:
    soak = load_load_profile("soak")[0]
    with pytest.raises(TypeError, match="runs stepped_ramp profiles, not soak"):
        KINDS["stepped_ramp"].plan_for(soak.shape)


def test_the_locust_adapter_has_a_class_for_every_registered_kind() -> None:
    """In a child process: importing Locust monkey-patches this one with gevent."""
    code = (
        "from loadtests import locust_shape\n"
        "from loadtests.shapes import KINDS\n"
        "print(sorted((k, c.__name__, getattr(locust_shape, c.__name__) is c and c.kind == k)"
        " for k, c in locust_shape.KIND_SHAPES.items()))\n"
        "print(sorted(KINDS))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    rows, kinds = out.stdout.splitlines()
    assert rows == str(
        sorted(
            [
                ("deadline_surge", "DeadlineSurgeShape", True),
                ("monday_rush", "MondayRushShape", True),
                ("soak", "SoakShape", True),
                ("spike", "SpikeShape", True),
                ("stepped_ramp", "SteppedRampShape", True),
            ]
        )
    )
    assert kinds == str(sorted(KINDS))
