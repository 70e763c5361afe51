"""SLO gates, like k6 thresholds: declared in YAML, checked once at the end, exit code 0 or 1.

Latency gates are per *step class* (a citizen waits differently for a page than for a submission),
so a portal that serves pages fast but queues every submission fails the `write` gate by name.
The same evaluation runs on each stage of a ramp, which is how the report finds the highest load
held within every SLO.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dvcwatch.core.errors import LocatedValueError
from dvcwatch.core.steps import STEPS
from dvcwatch.core.yamlconfig import load_model, resolve_named
from loadtests.counts import Counts

GATES_DIR = Path(__file__).with_name("gates")


class LatencyLimit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    p95: float | None = Field(None, gt=0, description="seconds")
    p99: float | None = Field(None, gt=0, description="seconds")


class GatesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int = 1
    step_classes: dict[str, list[str]]
    latency: dict[str, LatencyLimit] = {}
    error_ratio: float | None = Field(None, ge=0, le=1, description="failed / all requests")
    min_throughput_rps: float | None = Field(
        None, ge=0, description="successful portal requests per second over the run"
    )

    @model_validator(mode="after")
    def _coherent(self) -> GatesConfig:
        seen: dict[str, str] = {}
        for cls, steps in self.step_classes.items():
            for i, step in enumerate(steps):
                where = ("step_classes", cls, i)
                if step not in STEPS:
                    raise LocatedValueError(f"{step!r} is not a step ({', '.join(STEPS)})", where)
                if step in seen:
                    raise LocatedValueError(f"step {step!r} is in both {seen[step]} and {cls}", where)
                seen[step] = cls
        for cls in self.latency:
            if cls not in self.step_classes:
                raise LocatedValueError(
                    f"latency gate for an unknown step class (known: {', '.join(self.step_classes)})",
                    ("latency", cls),
                )
        return self


@dataclass(frozen=True)
class GateResult:
    name: str
    limit: float
    measured: float | None
    passed: bool
    unit: str
    note: str = ""  # why a gate broke that its number alone does not say

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def sentence(self) -> str:
        shown = "no requests" if self.measured is None else f"{self.measured:.3g} {self.unit}"
        verdict = "ok" if self.passed else "BROKEN"
        why = f" ({self.note})" if self.note else ""
        return f"{self.name}: {shown} (limit {self.limit:g} {self.unit}) {verdict}{why}"


def gates_path(name_or_file: str) -> Path:
    return resolve_named(name_or_file, GATES_DIR, "gates")


def load_gates(name_or_file: str) -> tuple[GatesConfig, Path]:
    path = gates_path(name_or_file)
    return load_model(GatesConfig, path), path


def evaluate(
    gates: GatesConfig,
    classes: Mapping[str, Counts],
    total: Counts,
    seconds: float,
    *,
    with_throughput: bool = True,
    unmeasured_ok: Collection[str] = (),
) -> list[GateResult]:
    """Each gate against one window (a whole run, or one stage): latency is an upper limit,
    throughput a lower one. A latency gate with no requests to measure does not pass: nothing was
    certified. The step classes in `unmeasured_ok` are the exception: the first seconds of a ramp may
    simply hold no submission yet, and such a gate is left out rather than failed. A class whose
    requests all failed breaks its gates whatever their latency: Locust times failures too, and a
    portal that refuses every login at once is fast, not within its SLO."""
    out: list[GateResult] = []
    for cls, limit in gates.latency.items():
        counts = classes.get(cls, Counts())
        for q, bound in (("p95", limit.p95), ("p99", limit.p99)):
            if bound is None:
                continue
            measured = counts.percentile_seconds(0.95 if q == "p95" else 0.99)
            if measured is None and cls in unmeasured_ok:
                continue
            all_failed = counts.requests > 0 and counts.successes <= 0
            passed = measured is not None and measured <= bound and not all_failed
            note = f"all {counts.requests} requests failed" if all_failed else ""
            out.append(GateResult(f"latency.{cls}.{q}", bound, measured, passed, "s", note))
    if gates.error_ratio is not None:
        measured_ratio = total.error_ratio if total.requests else None
        passed = measured_ratio is not None and measured_ratio <= gates.error_ratio
        out.append(GateResult("errors.ratio", gates.error_ratio, measured_ratio, passed, "ratio"))
    if with_throughput and gates.min_throughput_rps is not None:
        rps = total.successes / seconds if seconds > 0 else 0.0
        out.append(
            GateResult(
                "throughput.min", gates.min_throughput_rps, rps, rps >= gates.min_throughput_rps, "req/s"
            )
        )
    return out
