"""What `dvcwatch load` does, step by step: check, start the target if needed, run, report.

Everything a user can get wrong (profile, gates, target profile, host) is checked here before any
process starts, so a mistake costs one line and exit code 2, not a half-started load test.
"""

from __future__ import annotations

import json
import signal
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from dvcwatch.core.errors import ConfigError, DvcwatchError
from dvcwatch.core.profile import Profile
from dvcwatch.core.profile import load_profile as load_target
from loadtests.context import check_load_target, load_accounts
from loadtests.flow_files import FlowSet, other_origins, read_flows
from loadtests.gates import load_gates
from loadtests.interrupt import signal_of, stop_signals
from loadtests.launcher import LocustRun, Plan
from loadtests.outdir import check_port_free, commit_out, prepare_out
from loadtests.pages import PageTrouble
from loadtests.profile import LoadProfile, gates_reference, load_load_profile
from loadtests.safety import refuse_unless_allowed
from loadtests.shapes import shape_for

REMOTE_MASTER_PORT = 5557
METRICS_HOST = "127.0.0.1"


@dataclass
class LoadRequest:
    profile: str
    host: str | None = None
    gates: str | None = None
    target: str | None = None
    out_dir: Path = Path("load-report")
    workers: int = 0
    remote_workers: int = 0
    master_host: str | None = None
    master_port: int = 0
    master_bind: str = "127.0.0.1"
    max_users: int = 0
    max_duration: float = 0
    metrics_port: int = 0
    allowlist: str | None = None
    authorised: bool = False
    sandbox_faults: str | None = None
    overwrite: bool = False
    flows: str | None = None


def execute(req: LoadRequest, console: Console | None = None) -> int:
    console = console or Console(stderr=True, highlight=False)
    profile, profile_path = load_load_profile(req.profile)
    target, flows = _check_inputs(req, profile, profile_path)
    _check_where_it_goes(req, target, flows, console)
    out_dir = req.out_dir.resolve()
    work_dir = prepare_out(out_dir, req.overwrite)
    plan = _plan(req, profile, profile_path, flows, work_dir)
    return _run_until_stopped(req, plan, profile, work_dir, out_dir, console)


def _check_inputs(
    req: LoadRequest, profile: LoadProfile, profile_path: Path
) -> tuple[Profile | None, FlowSet]:
    """The shape, the gates, the target profile (selectors, accounts) and the flows, all read now."""
    shape_for(profile)  # a surge on an unknown service fails now, not after the target started
    load_gates(gates_reference(profile, profile_path, req.gates))
    target = load_target(req.target) if req.target else None
    if target is not None:
        check_load_target(target, req.target)
        PageTrouble.of(target.selectors, source=req.target)
        load_accounts(target, req.target)
    return target, _check_flows(req, target)


def _check_where_it_goes(req: LoadRequest, target: Profile | None, flows: FlowSet, console: Console) -> None:
    """Every host the load reaches is allowed, the workers are plausible, the metrics port is free."""
    origins = (target or load_target(None)).origins
    for origin in other_origins(flows.flows, origins):  # an identity or payment origin the flows reach
        refuse_unless_allowed(origin, req.allowlist, req.authorised)
    if req.host:
        refuse_unless_allowed(req.host, req.allowlist, req.authorised)
        if req.authorised:
            console.print(
                f"[yellow]loading {escape(req.host)} on your written authorisation (--i-have-authorisation)[/]"
            )
    elif req.master_host is None and req.remote_workers:
        raise ConfigError(
            "remote workers need a --host they can reach; the embedded sandbox listens on loopback"
        )
    if req.workers > 64:
        raise ConfigError("--workers above 64 on one machine is a mistake; spread workers over machines")
    if req.metrics_port and req.master_host is None:
        check_port_free("--metrics-port", METRICS_HOST, req.metrics_port)


def _plan(req: LoadRequest, profile: LoadProfile, profile_path: Path, flows: FlowSet, work_dir: Path) -> Plan:
    """The Locust processes to start, with every path absolute (they run in the work directory)."""
    max_users, max_duration = profile.capped(req.max_users, req.max_duration)
    return Plan(
        host=req.host,
        profile=profile_path.resolve(),
        out_dir=work_dir,
        max_users=max_users,
        max_duration=max_duration,
        gates=str(Path(req.gates).resolve()) if req.gates and Path(req.gates).exists() else req.gates,
        target=str(Path(req.target).resolve()) if req.target else None,
        workers=req.workers,
        remote_workers=req.remote_workers,
        master_host=req.master_host,
        master_bind=req.master_bind,
        master_port=req.master_port or _master_port(req),
        metrics_port=req.metrics_port,
        metrics_host=METRICS_HOST,
        allowlist=str(Path(req.allowlist).resolve()) if req.allowlist else None,
        authorised=req.authorised,
        flows=flows.source or None,
    )


def _run_until_stopped(
    req: LoadRequest, plan: Plan, profile: LoadProfile, work_dir: Path, out_dir: Path, console: Console
) -> int:
    """Run under the stop signals; a signal before the load started or after it ended still keeps a report."""
    with stop_signals():
        try:
            if plan.worker_only:
                code = _run_workers(plan, console)
                commit_out(work_dir, out_dir)
                return code
            return _run_with_target(req, plan, profile, work_dir, out_dir, console)
        except KeyboardInterrupt as exc:  # a stop signal before the load started, or after it ended
            sig = signal_of(exc)
            if _read_report(work_dir) is None:
                console.print(f"interrupted by {signal.Signals(sig).name} before the load started: no report")
            else:
                commit_out(work_dir, out_dir)
                console.print(f"interrupted by {signal.Signals(sig).name}; report: {out_dir / 'report.html'}")
            return 128 + sig


def _check_flows(req: LoadRequest, target: Profile | None) -> FlowSet:
    """`--flows`: read and checked here (production refused, every file valid, services known), so a
    mistake is one line and exit 2; the master reads them again and ships them to its workers."""
    if not req.flows:
        return FlowSet()
    if req.master_host is not None:
        raise ConfigError("--flows is the master's: workers receive the flows from it (drop --flows here)")
    return read_flows(req.flows, target or load_target(None), req.target)


def _run_with_target(
    req: LoadRequest, plan: Plan, profile: LoadProfile, work_dir: Path, out_dir: Path, console: Console
) -> int:
    sandbox = None
    try:
        if not req.host:
            from dvcwatch.orchestration.sandbox_process import EmbeddedSandbox

            sandbox = EmbeddedSandbox(faults=req.sandbox_faults, log_path=work_dir / "sandbox.log")
            sandbox.start()
            plan.host = sandbox.url
            console.print(f"embedded sandbox portal at {sandbox.url}")
        code = _run(plan, profile, console)
        report = _read_report(work_dir)
        if report is None:
            if code > 128:
                console.print(
                    f"interrupted by {signal.Signals(code - 128).name} before the load started: no report"
                )
                return code
            kept = f"; {out_dir} is untouched" if work_dir != out_dir else ""
            raise DvcwatchError(
                f"the load generator stopped without a report (exit {code}); {_tail(work_dir)}{kept}"
            )
        if sandbox is not None and sandbox.url:
            report["sandbox"] = _sandbox_facts(sandbox.url, sandbox.token, req.sandbox_faults)
            from loadtests.report import write

            write(report, work_dir)
    finally:
        if sandbox is not None:
            sandbox.stop()
    commit_out(work_dir, out_dir)
    _summarise(report, out_dir, console)
    if code > 128:
        return code
    return 0 if report["passed"] else 1


def _master_port(req: LoadRequest) -> int:
    if req.remote_workers or req.master_host:
        return REMOTE_MASTER_PORT
    from dvcwatch.core.processes import free_port

    return free_port()


def _run(plan: Plan, profile: LoadProfile, console: Console) -> int:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    total = min(shape_for(profile).duration, plan.max_duration)
    run = LocustRun(plan).start()
    where = f" · master + {plan.workers + plan.remote_workers} workers" if plan.distributed else ""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(f"{profile.name} → {plan.host}{where}", total=total)
        try:
            code = run.wait(on_tick=lambda elapsed: progress.update(task, completed=min(elapsed, total)))
        except KeyboardInterrupt as exc:
            sig = signal_of(exc)
            progress.stop()
            console.print(
                f"interrupted by {signal.Signals(sig).name}: stopping the load and writing the partial report…"
            )
            run.interrupt(sig)
            return 128 + sig
    return code


def _run_workers(plan: Plan, console: Console) -> int:
    run = LocustRun(plan).start()
    console.print(
        f"{len(run.workers)} workers connecting to the master at {plan.master_host}:{plan.master_port}"
    )
    try:
        return run.wait()
    except KeyboardInterrupt as exc:
        sig = signal_of(exc)
        run.interrupt(sig)
        return 128 + sig


def _read_report(out_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _tail(out_dir: Path) -> str:
    for name in ("locust-master.out", "locust-master.log"):
        p = out_dir / name
        if p.exists():
            lines = p.read_text(errors="replace").strip().splitlines()[-3:]
            return f"see {p}: " + " | ".join(lines)
    return f"see {out_dir}"


def _sandbox_facts(url: str, token: str, faults_file: str | None) -> dict[str, Any]:
    """The embedded sandbox's faults and counts at the end, so the report says what was simulated."""
    facts: dict[str, Any] = {"url": url, "faults_file": faults_file}
    for key, path in (("faults", "/_sandbox/faults"), ("stats", "/_sandbox/stats")):
        req = urllib.request.Request(url + path, headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                facts[key] = json.loads(r.read())
        except (OSError, ValueError) as exc:
            facts[key] = {"error": str(exc)}
    return facts


def _summarise(report: dict[str, Any], out_dir: Path, console: Console) -> None:
    from rich.table import Table

    out = Console(highlight=False)
    t = Table(title=f"gates · {report['profile']['name']} on {report['host']['target']}")
    for col in ("gate", "limit", "measured", "result"):
        t.add_column(col)
    for g in report["gates"]:
        measured = "no requests" if g["measured"] is None else f"{g['measured']:.3g} {g['unit']}"
        note = f": {escape(g['note'])}" if g.get("note") else ""
        verdict = "ok" if g["passed"] else f"[red]BROKEN{note}[/]"
        t.add_row(g["name"], f"{g['limit']:g} {g['unit']}", measured, verdict)
    out.print(t)
    knee, held, totals = report["knee"], report["held"], report["totals"]
    if knee["found"]:
        out.print(f"knee: {knee['requests_per_second']:.1f} req/s at about {knee['users']} users")
    else:
        out.print(f"knee: not found ({knee['note']})")
    if held["users"]:
        out.print(
            f"highest load held within every SLO: {held['users']} users, {held['requests_per_second']:.1f} req/s"
        )
    out.print(
        f"{totals['requests']:,} requests, {totals['requests_per_second']:.1f} req/s, "
        f"{totals['error_ratio'] * 100:.2f} % failed"
    )
    if report["partial"]:
        out.print(f"[yellow]PARTIAL run: {escape(str(report['stop_reason']))}[/]")
    out.print(f"{_verdict(report)} · report: {out_dir / 'report.html'}")


def _verdict(report: dict[str, Any]) -> str:
    """A partial run is no verdict on the profile: what ran may have held, the rest never ran (the
    HTML says PARTIAL too)."""
    broken = "gates broken: " + ", ".join(report["broken_gates"])
    if report["partial"]:
        held = "gates held for the part that ran" if report["passed"] else broken
        return f"[yellow]PARTIAL: {held}; the profile did not run to its end[/]"
    return "[green]all gates held[/]" if report["passed"] else f"[red]{broken}[/]"
