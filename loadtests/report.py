"""The capacity report a vendor hands over: `report.json` for machines, `report.html` for people.

It holds the verdict (each gate's limit, measured value and pass/fail), the knee and the highest
load held within every SLO, the stages and the timeline, and everything needed to reproduce the run:
the exact profile and gates (with their SHA-256), the target, the versions and the generator host.
A run cut short (Ctrl-C, a lost worker, the duration cap) still writes one, marked `partial`.
"""

from __future__ import annotations

import hashlib
import json
import platform
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dvcwatch.core.atomic import write_text
from loadtests.context import RunContext
from loadtests.counts import Counts, by_step_class, is_portal, load_total, snapshot, split_name
from loadtests.gates import GateResult, evaluate
from loadtests.knee import find_knee, highest_held, measure_stages
from loadtests.shapes.base import Stage
from loadtests.timeline import Sample, aggregate

SCHEMA_VERSION = 1


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def versions() -> dict[str, str]:
    from importlib.metadata import version

    import dvcwatch

    return {
        "dvcwatch": dvcwatch.__version__,
        "locust": version("locust"),  # not `import locust`: it patches the process with gevent
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def request_rows(stats: Any, seconds: float) -> list[dict[str, Any]]:
    rows = []
    for name, c in sorted(snapshot(stats).items()):
        service, step = split_name(name)
        rows.append(
            {
                "name": name,
                "service": service,
                "step": step,
                "harness": not is_portal(name),
                "requests": c.requests,
                "failures": c.failures,
                "requests_per_second": round(c.requests / seconds, 3) if seconds > 0 else None,
                "p50": c.percentile_seconds(0.5),
                "p95": c.percentile_seconds(0.95),
                "p99": c.percentile_seconds(0.99),
            }
        )
    return rows


def error_rows(stats: Any, limit: int = 30) -> list[dict[str, Any]]:
    errors = sorted(stats.errors.values(), key=lambda e: -e.occurrences)[:limit]
    return [
        {"name": e.name, "method": e.method, "error": str(e.error), "occurrences": e.occurrences}
        for e in errors
    ]


def build(
    ctx: RunContext,
    *,
    host: str,
    stats: Any,
    stages: list[Stage],
    samples: list[Sample],
    started_at: datetime,
    stop_reason: str,
    workers: list[dict[str, Any]],
) -> dict[str, Any]:
    total, seconds, gates = _judged(ctx, stats, samples, stop_reason)
    measures = measure_stages(stages, samples, ctx.gates, ctx.profile.analysis.warmup_fraction)
    return {
        "schema_version": SCHEMA_VERSION,
        "passed": all(g.passed for g in gates) and total.requests > 0,
        "partial": stop_reason != "completed",
        "stop_reason": stop_reason,
        "broken_gates": [g.name for g in gates if not g.passed],
        "gates": [g.as_dict() for g in gates],
        "knee": find_knee(measures).as_dict(),
        "held": highest_held(measures).as_dict(),
        "totals": _totals(total, seconds),
        "stages": [m.as_dict() for m in measures],
        "stage_plan": [s.as_dict() for s in stages],
        "requests": request_rows(stats, seconds),
        "errors": error_rows(stats),
        "timeline": [s.row() for s in samples],
        **_provenance(ctx),
        "host": _host(ctx, host, workers),
        "workers": workers,
        "versions": versions(),
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **ctx.extra,
    }


def _judged(
    ctx: RunContext, stats: Any, samples: list[Sample], stop_reason: str
) -> tuple[Counts, float, list[GateResult]]:
    """The load's totals, its seconds and the gates' verdicts on them."""
    total, classes, seconds = aggregate(samples)
    if not samples:
        # no sample was taken (a run stopped in its first second): judge the cumulative stats
        per_name = snapshot(stats)
        total = load_total(per_name)
        classes = by_step_class(per_name, ctx.gates.step_classes)
    gates: list[GateResult] = evaluate(ctx.gates, classes, total, seconds)
    if stop_reason.startswith("worker lost"):
        # the profile's load was not applied: nothing can be certified from this run
        gates.append(GateResult("run.workers_lost", 0, 1, False, "workers"))
    return total, seconds, gates


def _provenance(ctx: RunContext) -> dict[str, Any]:
    """What reproduces the run: the exact profile and gates (with their SHA-256) and the limits applied."""
    return {
        "profile": {
            "name": ctx.profile.name,
            "path": str(ctx.profile_path),
            "sha256": _sha256(ctx.profile_path),
            "spec": ctx.profile.model_dump(mode="json"),
        },
        "gates_config": {
            "path": str(ctx.gates_path),
            "sha256": _sha256(ctx.gates_path),
            "spec": ctx.gates.model_dump(mode="json"),
        },
        "limits": {"max_users": ctx.max_users, "max_duration_seconds": ctx.max_duration},
    }


def _host(ctx: RunContext, host: str, workers: list[dict[str, Any]]) -> dict[str, Any]:
    """Where the load went and where it came from."""
    return {
        "target": host,
        "environment": ctx.target.environment,
        "generator": socket.gethostname(),
        "workers": len(workers) if workers else 0,
        "command": " ".join(sys.argv),
    }


def _totals(total: Counts, seconds: float) -> dict[str, Any]:
    return {
        "requests": total.requests,
        "failures": total.failures,
        "seconds": round(seconds, 2),
        "requests_per_second": round(total.requests / seconds, 3) if seconds > 0 else 0.0,
        "successes_per_second": round(total.successes / seconds, 3) if seconds > 0 else 0.0,
        "error_ratio": round(total.error_ratio, 5),
        "p50": total.percentile_seconds(0.5),
        "p95": total.percentile_seconds(0.95),
        "p99": total.percentile_seconds(0.99),
    }


def write(report: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """Write report.json then report.html, each atomically (a reader never sees half a file)."""
    from loadtests.report_html import render

    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "report.json"
    html_path = out_dir / "report.html"
    write_text(json_path, json.dumps(report, ensure_ascii=False, indent=2))
    write_text(html_path, render(report))
    return json_path, html_path
