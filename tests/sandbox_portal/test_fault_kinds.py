"""Fault kinds are registered once (`sandbox_portal/faults/kinds/`): the YAML's choices, the parameters
each kind takes and the middleware's transport kinds derive from that map."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sandbox_portal.faults.engine import TRANSPORT_KINDS
from sandbox_portal.faults.kinds import KINDS
from sandbox_portal.faults.model import PARAMS, FaultSpec


def test_the_yaml_accepts_exactly_the_registered_kinds() -> None:
    choices = FaultSpec.model_fields["kind"].annotation.__args__  # type: ignore[union-attr]
    assert choices == tuple(KINDS)
    with pytest.raises(ValidationError, match="latency"):
        FaultSpec(kind="flood")  # type: ignore[arg-type]


def test_each_kind_takes_its_own_parameters_and_they_are_fields_of_a_fault() -> None:
    for name, kind in KINDS.items():
        assert PARAMS[name] == set(kind.params)
        assert set(kind.params) <= set(FaultSpec.model_fields)


def test_transport_kinds_are_those_that_act_around_the_handler() -> None:
    assert set(TRANSPORT_KINDS) == {"capacity", "latency", "hang", "reset", "error", "soft_failure"}
    assert all(KINDS[k].apply is None and KINDS[k].pool is None for k in set(KINDS) - set(TRANSPORT_KINDS))
