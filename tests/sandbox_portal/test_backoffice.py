"""The back office's two paces and the `backoffice_delay` fault, on the sandbox's own calendar: the due
date, the moment a result comes, and a dossier made late (or never answered) by the fault."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from sandbox_portal.backoffice import DONE_AFTER, done_after, result_came, status_of
from sandbox_portal.dossiers import create_dossier
from sandbox_portal.faults.model import FaultFile
from sandbox_portal.options import SandboxOptions
from sandbox_portal.state import PortalState
from sandbox_portal.storage import DossierRow

HOURS = "thong-bao-luu-tru"  # promised in 12 hours


def _state(**opts: object) -> PortalState:
    return PortalState(SandboxOptions(db_path=None, **opts))  # type: ignore[arg-type]


def _file(state: PortalState, service: str = HOURS) -> DossierRow:
    return create_dossier(state, state.services[service], "001099000001", {}, [], received=True)


def test_fast_pace_is_the_default_and_answers_within_a_second() -> None:
    state = _state()
    row = _file(state)
    assert state.backoffice == "fast"
    assert done_after(row, state) == DONE_AFTER
    assert status_of(row, state) in ("received", "processing")


def test_real_pace_answers_at_the_promised_moment_and_the_due_date_is_on_the_sandbox_calendar() -> None:
    state = _state(clock_speed=3600, backoffice="real")
    row = _file(state)
    received = state.clock.calendar(row.received_at)  # type: ignore[arg-type]
    assert done_after(row, state) == 12 * 3600
    assert row.expected_date == (received + timedelta(hours=12)).strftime("%d/%m/%Y")
    assert status_of(row, state) != "done" and result_came(row, state) is None


def test_real_pace_from_a_scenario_file_and_a_delay_or_never(tmp_path: Path) -> None:
    scenario = tmp_path / "slow.yaml"
    scenario.write_text("clock_speed: 3600\nbackoffice: real\nfaults: []\n")
    state = _state(faults_path=scenario)
    assert (state.backoffice, state.clock.speed) == ("real", 3600)
    state.faults.replace(FaultFile(faults=[{"kind": "backoffice_delay", "service": HOURS, "seconds": 7200}]))  # type: ignore[list-item]
    assert done_after(_file(state), state) == 12 * 3600 + 7200
    state.faults.replace(FaultFile(faults=[{"kind": "backoffice_delay", "service": HOURS}]))  # type: ignore[list-item]
    never = _file(state)
    assert done_after(never, state) is None
    assert status_of(never, state) in ("received", "processing")
    other = _file(state, "dang-ky-ket-hon")
    assert done_after(other, state) is not None, "only the fault's service is delayed"


def test_a_delay_scoped_to_a_step_is_refused() -> None:
    with pytest.raises(ValueError, match="not by step"):
        FaultFile(faults=[{"kind": "backoffice_delay", "step": "result", "seconds": 1}])  # type: ignore[list-item]
