"""`dvcwatch demo`: a bad day (or a healthy one) on the embedded sandbox, end to end."""

from __future__ import annotations

import argparse
import signal
from pathlib import Path
from typing import Any

from dvcwatch.commands.cli import HelpFormatter

EXAMPLES = """examples:
  dvcwatch demo                     a bad day: broken services, a downgrade, a freeze, congestion
  dvcwatch demo --healthy           the same with no faults: every light green, no alert
  dvcwatch demo --keep-running      then keep Prometheus, Alertmanager and the sandbox up to explore,
                                    in the foreground until Ctrl-C
  dvcwatch demo --out results/demo  where the scorecard, the capacity report and the alerts go
exit codes: 0 the instruments found exactly what was staged (healthy: all green, no alert),
            1 they disagreed (the summary says where), 2 usage or configuration error,
            130 stopped by Ctrl-C, 143 stopped by SIGTERM, 129 stopped by SIGHUP (a closed terminal
            or SSH session); each way the stack and every `dvcwatch shop`/`load` it started are
            stopped; after --keep-running's summary, Ctrl-C or SIGTERM is the normal end and the
            exit code is the demo's, SIGHUP still 129)"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="the whole story on the embedded sandbox, in a few minutes",
        description=(
            "Start the monitoring stack on loopback, stage a bad day in the sandbox portal, sweep all 25 "
            "services as a citizen, freeze the portal until the on-call is paged, run a capacity ramp into "
            "a congested back end, and print what was found and where the evidence is."
        ),
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    p.add_argument("--healthy", action="store_true", help="no faults: every service should be green")
    p.add_argument("--out", type=Path, help="output folder (default results/demo-<timestamp>)")
    p.add_argument(
        "--scenario",
        type=Path,
        help="a demo scenario YAML (default dvcwatch/orchestration/scenarios/demo.yaml)",
    )
    p.add_argument(
        "--keep-running",
        action="store_true",
        help="at the end, keep the stack up in the foreground (supervised) until Ctrl-C or SIGTERM",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """SIGTERM and SIGHUP (a closed terminal) are turned into an exception while the demo runs, so
    the stack and the `dvcwatch` children it started are stopped on the way out (a SIGKILL leaves
    nothing either: they die with this process)."""
    from dvcwatch.orchestration.stack import StackStopped

    def stopped_by_signal(signum: int, frame: object) -> None:
        raise StackStopped(signum)

    previous = {s: signal.signal(s, stopped_by_signal) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        return _run(args)
    except StackStopped as stop:
        return 128 + int(stop.args[0]) if stop.args else 143
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from dvcwatch.orchestration.demo import Demo, default_out

    console = Console()
    demo = Demo(
        args.out or default_out(),
        healthy=args.healthy,
        scenario=args.scenario,
        keep_running=args.keep_running,
    )
    title = "a healthy day" if args.healthy else "a bad day"
    console.print(
        f"[bold]dvcwatch demo[/] — {title} on the sandbox portal · evidence in {escape(str(demo.out))}"
    )
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        current: dict[str, Any] = {}

        def phase(text: str) -> None:
            if "id" in current:
                progress.update(current["id"], completed=1, total=1)
            current["id"] = progress.add_task(text, total=None)

        findings = demo.run(progress=phase)
        if "id" in current:
            progress.update(current["id"], completed=1, total=1)
    print_summary(console, demo.summary_dict(), demo)
    code = 1 if findings.problems else 0
    if demo.stack is not None:
        # said once the Ctrl-C handling is in place, so a Ctrl-C at the word still takes the stack down
        demo.stay_up(
            say=lambda text: console.print(escape(text)),
            ready=lambda: console.print("[bold]The stack stays up here, supervised: Ctrl-C stops it.[/]"),
        )
        console.print("stack stopped")
    return code


def print_summary(console: Any, s: dict[str, Any], demo: Any) -> None:
    """The demo's closing page: what works, what broke where, capacity and alerts, where the files are."""
    console.rule(f"What dvcwatch found in {s['seconds']:.0f} s")
    _print_services(console, s, demo)
    _print_freeze_and_capacity(console, s, demo)
    _print_files(console, s, demo)
    _print_check(console, s, demo)


def _print_services(console: Any, s: dict[str, Any], demo: Any) -> None:
    from rich.markup import escape

    from dvcwatch.core.catalog import load_catalog

    cat = load_catalog()
    # every text from the portal (a failure message, a verdict read back from results.json) and from
    # the catalog is escaped: shown as written, never read as Rich markup
    names = {svc.id: escape(svc.name_vi) for svc in cat.services}
    results = {r["service"]: r for r in demo.findings.last_sweep.get("results", [])}
    total = s["services"] or 25
    ok = s["working_end_to_end"]
    console.print(f"Works end to end: [bold]{ok} of {total}[/] services ({100 * ok / total:.0f} %)")
    for svc, step in s["failed_steps"].items():
        r = results[svc]
        seen = (r.get("failure") or {}).get("message", "")
        console.print(
            f"[red]Broken[/]  {names.get(svc, escape(svc))} ({escape(svc)}) — fails at "
            f"[bold]{escape(str(step))}[/]: {escape(seen[:90])}"
        )
    for svc in s["level_shortfall"]:
        console.print(
            f"[yellow]Only looks online[/]  {names.get(svc, escape(svc))} ({escape(svc)}) — promised "
            "toàn trình (full), "
            "the citizen must go to the office"
        )
    other = [
        svc
        for svc, v in s["verdicts"].items()
        if v in ("degraded", "error") and svc not in s["level_shortfall"]
    ]
    for svc in other:
        console.print(
            f"[yellow]{escape(s['verdicts'][svc])}[/]  {names.get(svc, escape(svc))} ({escape(svc)})"
        )


def _print_freeze_and_capacity(console: Any, s: dict[str, Any], demo: Any) -> None:
    from rich.markup import escape

    if s["freeze_notified_after_seconds"] is not None:
        console.print(
            f"Freeze: the portal-down alert reached the on-call {s['freeze_notified_after_seconds']:.0f} s after the portal froze"
        )
    knee = s.get("knee") or {}
    if knee.get("users"):
        console.print(
            f"Capacity: knee at about {knee['users']:.0f} citizens / {knee['requests_per_second']:.0f} requests/s"
        )
    elif demo.findings.load_report is not None:
        console.print("Capacity: no knee within the ramp (the portal held every step)")
    fired = s["alerts_fired"]
    console.print(
        "Alerts received: "
        + escape(", ".join(f"{k} ×{v}" if v > 1 else k for k, v in fired.items()) or "none")
    )


def _print_files(console: Any, s: dict[str, Any], demo: Any) -> None:
    from rich.markup import escape

    console.print(f"Scorecard:        {escape(s['scorecard'])}")
    console.print(f"Capacity report:  {escape(s['capacity_report'])}")
    console.print(f"Alerts received:  {escape(s['alerts_received'])}")
    state = (
        "running until Ctrl-C"
        if demo.findings.kept_running
        else "stopped; --keep-running keeps it up until Ctrl-C"
    )
    console.print(f"Prometheus:       {escape(str(s['prometheus']))} ({state})")


def _print_check(console: Any, s: dict[str, Any], demo: Any) -> None:
    from rich.markup import escape

    if s["problems"]:
        console.print("[red]The instruments disagree with what was staged:[/]")
        for p in s["problems"]:
            console.print(f"  - {escape(p)}")
    else:
        staged = "no fault, no alert" if demo.healthy else "every staged fault found at its service and step"
        console.print(f"[green]Check:[/] {staged}.")
