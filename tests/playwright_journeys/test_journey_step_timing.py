"""A slow portal is not a hung one. `step_timeout` bounds each wait for an answer, so "no answer in N s"
is literally true; a step of several pages that each answer within it may take up to STEP_WAITS of
them, and only then fails, saying so."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from dvcwatch.commands.cli import main
from dvcwatch.orchestration.sandbox_process import EmbeddedSandbox
from playwright_journeys import journey as journey_module
from playwright_journeys.journey import STEP_WAITS, Errand, Journey, Login, Options, Tab


def journey(step_timeout: float) -> Journey:
    citizen = SimpleNamespace(cccd="001000000001", password="synthetic")
    return Journey(
        tab=Tab(page=None, context=None),  # type: ignore[arg-type]
        errand=Errand(profile=None, catalog=None, service=None),  # type: ignore[arg-type]
        login=Login(citizen=citizen),  # type: ignore[arg-type]
        options=Options(persona=None, step_timeout=step_timeout),  # type: ignore[arg-type]
    )


class Clock:
    """Stands in for the session's `time` module: the test moves time instead of sleeping through it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_each_wait_gets_one_answers_patience_and_the_step_several(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(journey_module, "time", clock)
    j = journey(0.2)
    j.begin_step("form")
    assert j.step_limit == pytest.approx(0.2 * STEP_WAITS)
    assert j.remaining_ms() == pytest.approx(200)  # one answer's patience, not the whole step's
    assert j.no_answer().message == "no answer in 0.2 s"
    clock.now += 0.2 * STEP_WAITS - 0.1
    assert j.remaining_ms() == pytest.approx(100)  # what is left of the step, when that is less
    assert j.no_answer().message == "no answer in 0.2 s"
    clock.now += 0.15
    assert j.remaining_ms() == 1.0
    assert j.no_answer().message == f"step not done in {0.2 * STEP_WAITS:g} s"


FAULTS = """\
faults:
  - {kind: latency, service: dang-ky-thuong-tru, step: form, seconds: 1.2}
  - {kind: hang, service: cap-dien-moi, step: form}
"""


@pytest.mark.browser
@pytest.mark.slow
def test_slow_pages_complete_and_a_hang_fails_after_one_answers_patience(tmp_path: Path) -> None:
    faults = tmp_path / "faults.yaml"
    faults.write_text(FAULTS, encoding="utf-8")
    out = tmp_path / "out"
    with EmbeddedSandbox(faults=faults) as sandbox:
        argv = ["shop", "--target", sandbox.url, "--step-timeout", "4", "--out", str(out)]
        code = main(
            [*argv, "--service", "dang-ky-thuong-tru", "--service", "cap-dien-moi", "--parallel", "2"]
        )
    assert code == 1
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    results = {r["service"]: r for r in data["results"]}

    slow = results["dang-ky-thuong-tru"]
    form = next(s for s in slow["steps"] if s["name"] == "form")
    # every page answered within 4 s, and all of them together took longer than one answer's patience
    assert slow["verdict"] in ("pass", "degraded"), slow["failure"]
    assert form["status"] == "passed" and 4 < form["duration_seconds"] < 4 * STEP_WAITS, form

    hung = results["cap-dien-moi"]
    assert (hung["verdict"], hung["failed_step"]) == ("fail", "form")
    assert hung["failure"]["message"] == "no answer in 4 s"
    form = next(s for s in hung["steps"] if s["name"] == "form")
    assert 3.9 <= form["duration_seconds"] < 4 * STEP_WAITS, form  # one answer's patience, not the step's
