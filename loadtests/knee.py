"""Where the portal stops scaling: the knee of throughput against users, and the load it held.

With closed-loop users (each waits for an answer, then thinks), throughput grows in proportion to
users while the portal keeps up, then flattens at its capacity while latency climbs. The knee is
where the two straight lines meet: requests/s = the plateau's throughput, users = that throughput
divided by what one user drives at light load (Little's law on the linear part). It is only found
when some stage fell clearly below the linear line; otherwise the report says the capacity is
higher than the load applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loadtests.counts import Counts
from loadtests.gates import GateResult, GatesConfig, evaluate
from loadtests.shapes.base import Stage
from loadtests.timeline import Sample, aggregate

# A stage whose per-user throughput fell below this share of the light-load rate is saturated.
SATURATION = 0.8


@dataclass
class StageMeasure:
    stage: Stage
    users: float
    seconds: float
    total: Counts
    gates: list[GateResult]

    @property
    def success_rps(self) -> float:
        return self.total.successes / self.seconds if self.seconds else 0.0

    @property
    def held(self) -> bool:
        return bool(self.gates) and all(g.passed for g in self.gates)

    def as_dict(self) -> dict[str, Any]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 4)

        return {
            **self.stage.as_dict(),
            "measured_seconds": round(self.seconds, 2),
            "users_measured": round(self.users, 1),
            "requests": self.total.requests,
            "failures": self.total.failures,
            "requests_per_second": r(self.total.requests / self.seconds) if self.seconds else 0.0,
            "successes_per_second": r(self.success_rps),
            "error_ratio": r(self.total.error_ratio),
            "p50": r(self.total.percentile_seconds(0.5)),
            "p95": r(self.total.percentile_seconds(0.95)),
            "p99": r(self.total.percentile_seconds(0.99)),
            "within_slo": self.held,
            "broken_gates": [g.name for g in self.gates if not g.passed],
        }


def measure_stages(
    stages: list[Stage], samples: list[Sample], gates: GatesConfig, warmup_fraction: float
) -> list[StageMeasure]:
    """Each stage's steady part: samples after the warm-up share of the stage, judged by the gates
    (without the run-wide throughput floor, which a single stage cannot be held to, and without
    the latency of a step class that no request of this or an earlier stage has reached)."""
    out = []
    seen: set[str] = set()  # step classes some earlier stage measured
    for st in stages:
        begin = st.start + warmup_fraction * (st.end - st.start)
        inside = [s for s in samples if s.stage == st.index and s.t - s.seconds >= begin - 1e-6]
        if not inside:
            inside = [s for s in samples if s.stage == st.index and s.t >= begin]
        if not inside:
            continue
        total, classes, seconds = aggregate(inside)
        users = sum(s.users for s in inside) / len(inside)
        measured = {c for c, n in classes.items() if n.requests}
        # a class no stage has reached yet is not judged; one that went missing (submissions hung
        # past the stage's end) is a broken gate, not a pass
        not_yet = set(gates.step_classes) - seen - measured
        seen |= measured
        results = evaluate(gates, classes, total, seconds, with_throughput=False, unmeasured_ok=not_yet)
        out.append(StageMeasure(st, users, seconds, total, results))
    return out


@dataclass
class Knee:
    found: bool
    users: int | None
    requests_per_second: float | None
    last_linear_stage: int | None
    note: str

    def as_dict(self) -> dict[str, Any]:
        status = (
            "found"
            if self.found
            else ("not_reached" if self.last_linear_stage is not None else "not_measured")
        )
        return {
            "found": self.found,
            "status": status,
            "users": self.users,
            "requests_per_second": None
            if self.requests_per_second is None
            else round(self.requests_per_second, 2),
            "last_linear_stage": self.last_linear_stage,
            "method": "intersection of the light-load line and the throughput plateau",
            "note": self.note,
        }


def find_knee(measures: list[StageMeasure]) -> Knee:
    steady = [m for m in measures if m.stage.steady and m.users > 0 and m.total.requests > 0]
    levels = sorted({m.stage.users for m in steady})
    if len(levels) < 3:
        return Knee(
            False, None, None, None, "needs at least three steady stages at different loads (a stepped ramp)"
        )
    steady.sort(key=lambda m: m.users)
    light = steady[:2]
    per_user = max(m.success_rps / m.users for m in light)
    if per_user <= 0:
        return Knee(False, None, None, None, "no successful requests at light load")
    saturated = [m for m in steady if m.success_rps < SATURATION * per_user * m.users]
    if not saturated:
        top = steady[-1]
        return Knee(
            False,
            None,
            None,
            top.stage.index,
            f"throughput still grew with users up to {top.users:.0f} users and {top.success_rps:.1f} req/s: "
            "the capacity is higher than the load applied",
        )
    plateau = max(m.success_rps for m in steady)
    first_saturated = saturated[0]
    linear = [m for m in steady if m.users < first_saturated.users]
    return Knee(
        True,
        round(plateau / per_user),
        plateau,
        linear[-1].stage.index if linear else None,
        f"throughput flattened at {plateau:.1f} req/s from about {plateau / per_user:.0f} users",
    )


@dataclass
class Held:
    users: int | None
    requests_per_second: float | None
    stage: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "users": self.users,
            "requests_per_second": None
            if self.requests_per_second is None
            else round(self.requests_per_second, 2),
            "stage": self.stage,
        }


def highest_held(measures: list[StageMeasure]) -> Held:
    """The highest steady load at which every latency and error gate held."""
    ok = [m for m in measures if m.stage.steady and m.held]
    if not ok:
        return Held(None, None, None)
    best = max(ok, key=lambda m: (m.success_rps, m.users))
    return Held(best.stage.users, best.success_rps, best.stage.index)
