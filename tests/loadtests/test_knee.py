"""Knee detection on stage measurements, as a closed-loop load against a capacity produces them."""

from __future__ import annotations

from collections import Counter

import pytest

from loadtests.counts import Counts
from loadtests.gates import GateResult
from loadtests.knee import StageMeasure, find_knee, highest_held
from loadtests.shapes.base import Stage


def stage(i: int, users: int, rps: float, p95_ok: bool = True, steady: bool = True) -> StageMeasure:
    seconds = 10.0
    n = round(rps * seconds)
    gate = GateResult("latency.browse.p95", 1.0, 0.2 if p95_ok else 2.0, p95_ok, "s")
    return StageMeasure(
        Stage(i, f"step {i + 1}", i * 10, (i + 1) * 10, users, 10, steady=steady),
        float(users),
        seconds,
        Counts(n, 0, Counter({100: n})),
        [gate],
    )


def closed_loop(users: int, per_user: float = 2.0, capacity: float = 80.0) -> float:
    return min(users * per_user, capacity)


def test_the_knee_is_where_the_line_meets_the_plateau() -> None:
    measures = [stage(i, u, closed_loop(u)) for i, u in enumerate((10, 20, 30, 40, 60, 80, 100))]
    knee = find_knee(measures)
    assert knee.found
    assert knee.requests_per_second == pytest.approx(80.0)
    assert knee.users == 40
    assert knee.last_linear_stage == 3


def test_no_knee_while_throughput_keeps_growing() -> None:
    measures = [stage(i, u, closed_loop(u, capacity=1000)) for i, u in enumerate((10, 20, 30, 40))]
    knee = find_knee(measures)
    assert not knee.found
    assert "higher than the load applied" in knee.note


def test_a_flat_profile_cannot_have_a_knee() -> None:
    knee = find_knee([stage(0, 20, 40), stage(1, 20, 40)])
    assert not knee.found
    assert "three steady stages" in knee.note


def test_ramps_are_not_measured_for_the_knee() -> None:
    measures = [stage(i, u, closed_loop(u)) for i, u in enumerate((10, 20, 30))]
    measures.append(stage(3, 200, 10, steady=False))
    assert not find_knee(measures).found


def test_the_highest_held_load_is_the_best_stage_within_every_slo() -> None:
    measures = [stage(i, u, closed_loop(u), p95_ok=u <= 40) for i, u in enumerate((10, 20, 40, 60, 80))]
    held = highest_held(measures)
    assert held.users == 40
    assert held.requests_per_second == pytest.approx(80.0)
    assert highest_held([stage(0, 10, 20, p95_ok=False)]).users is None


def test_a_stage_is_not_judged_on_a_step_no_citizen_reached_yet_but_is_when_it_went_missing() -> None:
    """Five users for a few seconds may file no submission yet: that stage held. Once submissions
    were measured, a stage where none finished (they hung past its end) broke the write gate."""
    from loadtests.gates import load_gates
    from loadtests.knee import measure_stages
    from loadtests.timeline import Sample

    gates, _ = load_gates("default")
    stages = [Stage(i, f"step {i + 1}", i * 10, (i + 1) * 10, 5 * (i + 1), 10) for i in range(3)]

    def sample(stage: int, t: float, with_writes: bool) -> Sample:
        classes = {"browse": Counts(20, 0, Counter({50: 20})), "auth": Counts(5, 0, Counter({80: 5}))}
        if with_writes:
            classes["write"] = Counts(2, 0, Counter({200: 2}))
        total = Counts()
        for c in classes.values():
            total.add(Counts(c.requests, c.failures, Counter(c.times)))
        return Sample(t, 1.0, 5 * (stage + 1), stage, total, classes)

    samples = [sample(i, i * 10 + k, with_writes=(i == 1)) for i in range(3) for k in range(5, 11)]
    measures = measure_stages(stages, samples, gates, warmup_fraction=0.35)
    assert [m.held for m in measures] == [True, True, False]
    broken = [g.name for g in measures[2].gates if not g.passed]
    assert broken == ["latency.write.p95", "latency.write.p99"]
