"""The `results.json` schema (docs/journeys.md) and how shards of one sweep are merged.

Other tools (dashboards, the demo, a district's own scripts) read this file, so it is versioned:
`schema_version` changes only when a reader must change. Artifact paths are relative to the file.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dvcwatch.core.atomic import write_text
from dvcwatch.core.errors import ConfigError
from dvcwatch.core.inputfile import read_input_text

SCHEMA_VERSION = 1

# not_filed: production, look don't touch: the journey got as far as it may (checked_to) and filed
# nothing, so it proves the way up to filing, not the service end to end
Verdict = Literal["pass", "degraded", "fail", "error", "not_filed"]
StepStatus = Literal["passed", "failed", "skipped", "not_run"]
Level = Literal["full", "partial"]
VERDICTS: tuple[str, ...] = ("pass", "degraded", "fail", "error", "not_filed")


class StepResult(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    status: StepStatus
    duration_seconds: float = 0.0
    started_seconds: float = Field(0.0, description="offset from the journey's start, for the waterfall")
    detail: str = ""
    http_status: int | None = None
    url: str | None = None


class FailureInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str
    seen: str = Field("", description="the text the citizen saw (error banner, error page, form errors)")
    http_status: int | None = None
    url: str | None = None
    selector: str | None = Field(None, description="the profile selector that found nothing, if that was it")


class Artifacts(BaseModel):
    model_config = ConfigDict(extra="forbid")
    screenshot: str | None = None
    trace: str | None = None


class ServiceResult(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service: str
    name_vi: str
    name_en: str
    agency: str
    persona: str
    verdict: Verdict
    failed_step: str | None = None
    failure: FailureInfo | None = None
    level_promised: Level
    level_advertised: Level | None = Field(None, description="what the service page says")
    level_delivered: Level | None = Field(None, description="what the citizen really got; null if unknown")
    degraded_reasons: list[str] = []
    steps: list[StepResult]
    dossier_code: str | None = None
    expected_date: str | None = None
    fee_promised: int = 0
    fee_charged: int | None = None
    duration_seconds: float = 0.0
    submit_seconds: float | None = Field(None, description="login → dossier code, the budgeted span")
    budget_seconds: float | None = None
    citizen_index: int
    attempts: int = 1
    flaky: bool = False
    harness_restarts: int = 0
    artifacts: Artifacts = Artifacts()
    checked_to: str | None = Field(
        None, description="production (look, don't touch): the last step checked before stopping"
    )
    journey_id: str | None = Field(
        None, description="this journey's own id (its history row); absent in sweeps made before ids"
    )

    @property
    def completed(self) -> bool:
        """The citizen got through, on time or not, as promised or not (pass or degraded)."""
        return self.verdict in ("pass", "degraded")

    @property
    def level_shortfall(self) -> bool:
        """Promised fully online (toàn trình), delivered only partly: the office visit after all."""
        return self.level_promised == "full" and self.level_delivered == "partial"


class Summary(BaseModel):
    total: int
    passed: int = Field(alias="pass")
    degraded: int
    failed: int = Field(alias="fail")
    error: int
    not_filed: int = Field(0, description="production: checked up to filing, nothing filed")
    share_end_to_end: float = Field(
        description="share of the journeys that could be tried end to end (not_filed ones could not) "
        "that passed: truly online end to end"
    )

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    base_url: str
    environment: str


class RunResults(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schema_version: Literal[1] = SCHEMA_VERSION
    tool: str = "dvcwatch shop"
    started_at: str
    finished_at: str
    duration_seconds: float
    target: Target
    vantage: str
    personas: list[str]
    shard: str = "1/1"
    planned: int | None = Field(None, description="journeys this sweep (or shard) set out to run")
    partial: bool = Field(
        False, description="true if the sweep stopped before every planned journey finished"
    )
    partial_reason: str | None = Field(None, description="why it stopped early (Ctrl-C, SIGTERM, killed)")
    summary: Summary
    results: list[ServiceResult]

    @field_validator("started_at", "finished_at")
    @classmethod
    def _iso_moment(cls, value: str) -> str:
        """The history orders and windows journeys by these: an ISO 8601 moment, or refused."""
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not an ISO 8601 date and time, e.g. 2026-11-20T03:00:00+00:00"
            ) from None
        return value


def summarize(results: list[ServiceResult]) -> Summary:
    counts = {v: sum(1 for r in results if r.verdict == v) for v in VERDICTS}
    total = len(results)
    tried = total - counts["not_filed"]
    return Summary(
        total=total,
        passed=counts["pass"],
        degraded=counts["degraded"],
        failed=counts["fail"],
        error=counts["error"],
        not_filed=counts["not_filed"],
        share_end_to_end=round(counts["pass"] / tried, 4) if tried else 0.0,
    )


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_results(run: RunResults, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "results.json"
    write_text(path, json.dumps(run.model_dump(mode="json", by_alias=True), ensure_ascii=False, indent=2))
    return path


RESULTS_MAX_BYTES = 64 * 1024 * 1024  # a 25-service sweep's results.json is ~100 KB


def read_results(path: str | Path) -> RunResults:
    p = Path(path)
    if p.is_dir():
        p = p / "results.json"
    if not p.exists():
        raise ConfigError("no results.json here", path=str(p))
    # a regular file within the cap: a FIFO would block and /dev/zero would never end
    text = read_input_text(p, limit=RESULTS_MAX_BYTES, what="a results.json")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not JSON: {exc.msg}", path=str(p), line=exc.lineno) from None
    if isinstance(data, dict) and data.get("schema_version") != SCHEMA_VERSION:
        raise ConfigError(
            f"schema_version {data.get('schema_version')!r}, this dvcwatch reads {SCHEMA_VERSION}",
            path=str(p),
        )
    try:
        return RunResults.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise ConfigError(first["msg"], path=str(p), field=where) from None


def merge(parts: list[tuple[RunResults, Path]], out_dir: Path) -> RunResults:
    """Join the shards of one sweep; artifact paths are rewritten to stay valid from `out_dir`."""
    if not parts:
        raise ConfigError("nothing to merge")
    import os

    results: list[ServiceResult] = []
    seen: set[tuple[str, str]] = set()
    for run, src_dir in parts:
        for r in run.results:
            key = (r.service, r.persona)
            if key in seen:
                raise ConfigError(f"{r.service} / {r.persona} appears in two shards", path=str(src_dir))
            seen.add(key)
            arts = {}
            for kind, rel in r.artifacts.model_dump().items():
                arts[kind] = os.path.relpath(src_dir / rel, out_dir) if rel else None
            results.append(r.model_copy(update={"artifacts": Artifacts(**arts)}))
    first = parts[0][0]
    personas = sorted({p for run, _ in parts for p in run.personas})
    stopped = [f"{d}: {run.partial_reason or 'partial'}" for run, d in parts if run.partial]
    planned = [run.planned for run, _ in parts]
    return RunResults(
        started_at=min(run.started_at for run, _ in parts),
        finished_at=max(run.finished_at for run, _ in parts),
        duration_seconds=max(run.duration_seconds for run, _ in parts),
        target=first.target,
        vantage=first.vantage,
        personas=personas,
        shard=f"merged from {len(parts)}",
        planned=sum(planned) if all(n is not None for n in planned) else None,  # type: ignore[misc]
        partial=bool(stopped),
        partial_reason="; ".join(stopped) or None,
        summary=summarize(results),
        results=results,
    )
