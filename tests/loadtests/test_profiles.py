"""Load profiles and their shapes, read from YAML and evaluated against the clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from dvcwatch.core.errors import ConfigError
from loadtests.profile import builtin_profiles, load_load_profile
from loadtests.shapes import KINDS, shape_for
from loadtests.shapes.deadline_surge import service_share

DATA = Path(__file__).with_name("data")
INVALID = DATA / "invalid"


@pytest.mark.parametrize("name", builtin_profiles())
def test_every_builtin_profile_loads_and_has_a_bounded_shape(name: str) -> None:
    profile, _ = load_load_profile(name)
    shape = shape_for(profile)
    assert shape.duration > 0
    assert all(s.users <= profile.limits.max_users for s in shape.stages())


def test_the_five_kinds_each_have_a_shape_and_a_builtin_profile() -> None:
    kinds = {load_load_profile(n)[0].shape.kind for n in builtin_profiles()}
    assert kinds == set(KINDS) == {"stepped_ramp", "monday_rush", "deadline_surge", "spike", "soak"}


def test_stepped_ramp_holds_each_step_for_its_seconds() -> None:
    shape = shape_for(load_load_profile(str(DATA / "knee-ramp.yaml"))[0])
    assert [s.users for s in shape.stages()] == [5, 10, 15, 20, 25, 30, 35, 40]
    assert shape.at(0).users == 5
    assert shape.at(5.99).users == 5
    assert shape.at(6.0).users == 10
    assert shape.at(47.9).users == 40
    assert shape.at(48.0) is None


def test_monday_rush_climbs_in_a_straight_line_then_holds_the_peak() -> None:
    profile, _ = load_load_profile("monday-rush")
    shape = shape_for(profile)
    spec = profile.shape
    mid_climb = spec.baseline_seconds + spec.climb_seconds / 2
    assert shape.at(10).users == spec.baseline_users
    assert shape.at(mid_climb).users == round((spec.baseline_users + spec.peak_users) / 2)
    assert shape.at(spec.baseline_seconds + spec.climb_seconds + 1).users == spec.peak_users
    assert shape.at(shape.duration - 0.01).users == pytest.approx(spec.afternoon_users, rel=0.01)


def test_deadline_surge_adds_citizens_for_one_service_only_during_the_surge() -> None:
    profile, _ = load_load_profile(str(DATA / "exam-deadline.yaml"))
    shape = shape_for(profile)
    before, surge, after = shape.stages()
    share = service_share("dang-ky-thi-thpt")
    assert not before.surge and not after.surge and surge.surge
    assert before.users == after.users == 20
    assert surge.users - 20 == round(20 * share * 29)
    assert "dang-ky-thi-thpt" in surge.label


def test_spike_and_soak_stages() -> None:
    spike = shape_for(load_load_profile("spike")[0])
    assert [s.label for s in spike.stages()] == ["before the spike", "spike", "recovery"]
    assert max(s.users for s in spike.stages()) == 1500
    soak = shape_for(load_load_profile("soak")[0])
    assert soak.stages()[-1].end == 120 + 14400


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        ("unknown-kind.yaml", "shape"),
        ("ramp-no-steps.yaml", "shape.steps"),
        ("think-backwards.yaml", "max must be at least min"),
        ("too-many-users.yaml", "limits.max_users"),
        ("misspelt-field.yaml", "unknown field"),
    ],
)
def test_invalid_profiles_name_file_line_and_field(filename: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_load_profile(str(INVALID / filename))
    text = str(err.value)
    assert filename in text
    assert message in text
    assert err.value.line is not None


def test_an_unknown_profile_name_lists_the_builtin_ones() -> None:
    with pytest.raises(ConfigError, match=r"built-in load profiles: .*stepped-ramp"):
        load_load_profile("steped-ramp")


def test_an_unknown_surge_service_is_refused_with_close_matches() -> None:
    with pytest.raises(ConfigError, match="dang-ky-thi-thpt"):
        shape_for(load_load_profile(str(INVALID / "surge-unknown-service.yaml"))[0])


def test_a_vendors_own_locustfile_can_run_one_kind_from_a_profile_file() -> None:
    """`class Mine(SteppedRampShape): profile_file = ...` (locust_shape's docstring) follows that
    profile's plan; a kind class without a profile says what it needs. In a child process: importing
    Locust monkey-patches this one with gevent, which the test workers do not survive."""
    import subprocess
    import sys

    profile = Path(__file__).with_name("data") / "knee-ramp.yaml"
    code = f"""
from loadtests.locust_shape import SteppedRampShape

class Mine(SteppedRampShape):
    profile_file = {str(profile)!r}

class Forgot(SteppedRampShape):
    pass

print([s.users for s in Mine().stages()], Mine().stage_index_at(7.0))
try:
    Forgot().stages()
except TypeError as exc:
    print(exc)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    lines = out.stdout.splitlines()
    assert lines[0] == "[5, 10, 15, 20, 25, 30, 35, 40] 1"
    assert "needs profile_file" in lines[1]
