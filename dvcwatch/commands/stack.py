"""`dvcwatch stack`: the sandbox, probers, Prometheus, Alertmanager, Pushgateway and the webhook
listener on loopback, started and stopped as one.

`up` stays in the foreground as the stack's supervisor: Ctrl-C or SIGTERM stops everything (exit 0),
so does SIGHUP, a closed terminal or SSH session (exit 129: not a deliberate end), SIGKILL takes every
component with it (parent-death signal), a component that exits is restarted and the on-call
notified. `up --detach` runs the same supervisor in its own session, logging to
<run-dir>/supervisor.log, and returns once the stack is up; `down` stops it. Being in its own
session, it has no controlling terminal, so closing the one it was started from does not reach it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from dvcwatch.commands.cli import HelpFormatter

if TYPE_CHECKING:
    from rich.console import Console

    from dvcwatch.orchestration.stack import Stack, StackSettings

EXAMPLES = """examples:
  dvcwatch stack up                            everything, production intervals; Ctrl-C stops it all
  dvcwatch stack up --fast --ward phuong-a     demo timing, plus a ward behind a cuttable link
  dvcwatch stack up --detach                   in the background (its supervisor logs to
                                               <run-dir>/supervisor.log); stop with `stack down`
  dvcwatch stack fault sandbox_portal/scenarios/bad-day.yaml
  dvcwatch stack fault --hang                  the whole portal hangs (DvcPortalDown)
  dvcwatch stack link phuong-a down            the ward's own link is cut (DvcVantageLinkDown)
  dvcwatch stack status                        processes, restarts, health, firing alerts
  dvcwatch stack down                          stops the supervisor and everything it runs
a component that exits is restarted (at once, then 2, 4, 8, 16 s apart; at most 5 times in 10 min)
and DvcStackComponentRestarted is posted to Alertmanager; SIGKILL to `up` takes every component with it.
exit codes of `up`: 0 stopped by Ctrl-C, SIGTERM or `down`, 129 stopped by SIGHUP (its terminal closed;
every component is stopped all the same), 2 usage or configuration error
state: <run-dir>/state.json; what the listener received: <run-dir>/listener/alerts.jsonl"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "stack",
        help="run the whole monitoring stack on loopback (sandbox, probers, Prometheus, Alertmanager)",
        description=(
            "Start the sandbox portal, a prober per vantage, Prometheus with the generated rules, "
            "Alertmanager, Pushgateway and the webhook listener, each with its own data dir under one "
            "run folder, supervised by `up` until Ctrl-C, SIGTERM or `down`."
        ),
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    p.add_argument("--run-dir", default="runs/stack", help="run folder (default %(default)s)")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    _register_up(actions)

    actions.add_parser(
        "down", help="stop the supervisor and everything the run folder's state names"
    ).set_defaults(func=run_down)
    actions.add_parser("status", help="processes, restarts, health, firing alerts").set_defaults(
        func=run_status
    )

    _register_fault_and_link(actions)


def _register_up(actions: argparse._SubParsersAction) -> None:
    up = actions.add_parser(
        "up",
        help="start everything and supervise it until Ctrl-C or SIGTERM",
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    up.add_argument(
        "--detach",
        action="store_true",
        help="supervise from a background process (own session, log <run-dir>/supervisor.log) and "
        "return once everything is up; `dvcwatch stack down` stops it",
    )
    up.add_argument(
        "--ward",
        action="append",
        default=[],
        metavar="NAME",
        help="add a ward vantage behind its own cuttable link (repeatable)",
    )
    up.add_argument(
        "--fast",
        action="store_true",
        help="demo timing: 1 s scrapes, 2 s probes, every `for:` 7.5 times shorter (never for a real portal)",
    )
    up.add_argument(
        "--slo", metavar="FILE", help="SLO/threshold file for the rules (default alerts/slo.yaml)"
    )
    up.add_argument(
        "--scrape-interval", default="5s", help="Prometheus scrape interval (default %(default)s)"
    )
    up.add_argument(
        "--evaluation-interval", default="5s", help="rule evaluation interval (default %(default)s)"
    )
    up.add_argument(
        "--probe-interval", type=float, default=5.0, help="seconds between probes (default %(default)s)"
    )
    up.add_argument(
        "--probe-timeout", type=float, default=4.0, help="probe timeout, seconds (default %(default)s)"
    )
    up.set_defaults(func=run_up)


def _register_fault_and_link(actions: argparse._SubParsersAction) -> None:
    fault = actions.add_parser(
        "fault",
        help="replace the sandbox's faults (contracts §5)",
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    what = fault.add_mutually_exclusive_group(required=True)
    what.add_argument("file", nargs="?", metavar="FILE", help="faults YAML")
    what.add_argument("--hang", action="store_true", help="every request hangs")
    what.add_argument("--clear", action="store_true", help="no faults")
    fault.set_defaults(func=run_fault)

    link = actions.add_parser("link", help="cut or restore a ward's link")
    link.add_argument("ward")
    link.add_argument("state", choices=["down", "up"])
    link.set_defaults(func=run_link)


def _settings(args: argparse.Namespace) -> StackSettings:
    from pathlib import Path

    from dvcwatch.orchestration.stack import StackSettings, fast_settings

    slo = Path(args.slo) if args.slo else None
    if slo:
        from alerts.config import load_config

        load_config(slo)  # a bad SLO file is one clear error before anything starts
    if args.fast:
        return fast_settings(Path(args.run_dir), wards=list(args.ward), **({"slo": slo} if slo else {}))
    return StackSettings(
        run_dir=Path(args.run_dir),
        scrape_interval=args.scrape_interval,
        evaluation_interval=args.evaluation_interval,
        probe_interval=args.probe_interval,
        probe_timeout=args.probe_timeout,
        slo=slo,
        wards=list(args.ward),
    )


def run_up(args: argparse.Namespace) -> int:
    from rich.console import Console

    from alerts.config import duration_seconds
    from dvcwatch.core.errors import ConfigError
    from dvcwatch.orchestration.stack import Stack

    for flag in ("scrape_interval", "evaluation_interval"):
        try:
            duration_seconds(getattr(args, flag))
        except ValueError as exc:
            raise ConfigError(f"--{flag.replace('_', '-')}: {exc}") from None
    console = Console(highlight=False)
    stack = Stack(_settings(args))
    stack.check_free()
    if args.detach:
        return _detach(args, stack, console)
    return _supervise(args, stack, console)


def _supervise(args: argparse.Namespace, stack: Stack, console: Console) -> int:
    """Start, tell the user where things are, then watch until Ctrl-C, SIGTERM or SIGHUP. A person
    ends a supervisor with Ctrl-C or SIGTERM (exit 0); a hang-up is a closed terminal (exit 129)."""
    import signal

    def start() -> None:
        with console.status("starting") as status:
            stack.up(progress=lambda label: status.update(f"starting {label}"))
        _print_components(console, stack)
        _print_usage(console, stack, args)
        console.print(
            f"supervising (restarts, alerts to Alertmanager); stop with Ctrl-C, SIGTERM or "
            f"dvcwatch stack --run-dir {args.run_dir} down",
            markup=False,
            soft_wrap=True,
        )

    stopped = stack.run_supervised(say=lambda line: console.print(line, markup=False), start=start)
    console.print(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}", markup=False)
    return 128 + signal.SIGHUP if stack.stopped_by == signal.SIGHUP else 0


def _up_arguments(args: argparse.Namespace) -> list[str]:
    """The same `up`, without --detach: what the background supervisor runs."""
    out = ["--scrape-interval", args.scrape_interval, "--evaluation-interval", args.evaluation_interval]
    out += ["--probe-interval", str(args.probe_interval), "--probe-timeout", str(args.probe_timeout)]
    for ward in args.ward:
        out += ["--ward", ward]
    if args.fast:
        out.append("--fast")
    if args.slo:
        out += ["--slo", str(Path(args.slo).resolve())]
    return out


def _detach(args: argparse.Namespace, stack: Stack, console: Console) -> int:
    """Re-run `up` in its own session (it outlives this command and our terminal), wait until its
    state says it supervises, and print what `up` prints."""
    import os
    import subprocess
    import sys

    from dvcwatch.core import processes
    from dvcwatch.core.waiting import poll_until
    from dvcwatch.orchestration.stack import StackError

    log_path = stack.run_dir / "supervisor.log"
    cmd = [sys.executable, "-m", "dvcwatch", "stack", "--run-dir", str(stack.run_dir), "up"]
    cmd += _up_arguments(args)
    try:
        stack.run_dir.mkdir(parents=True, exist_ok=True)
        log = open(log_path, "ab")  # noqa: SIM115 - the child keeps its own copy
    except OSError as exc:
        raise StackError(f"cannot use the run folder {stack.run_dir}: {exc.strerror or exc}") from None
    with log:
        child = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "COLUMNS": "120"},
        )

    def supervising() -> bool:
        state = processes.read_json(stack.state_path) or {}
        return (state.get("supervisor") or {}).get("pid") == child.pid

    with console.status("starting (detached)"):
        poll_until(lambda: supervising() or child.poll() is not None, 300, 0.2)
        if not supervising():
            if child.poll() is None:
                child.terminate()  # its components follow it (parent-death signal)
                child.wait(timeout=30)
            tail = log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise StackError(f"the stack did not start: {tail[0]} (see {log_path})")
    from dvcwatch.orchestration.stack import Stack

    stack = Stack.load(stack.run_dir)
    _print_components(console, stack)
    _print_usage(console, stack, args)
    console.print(
        f"supervisor: pid {child.pid}, log {log_path}\n"
        f"stop with: dvcwatch stack --run-dir {args.run_dir} down",
        markup=False,
        soft_wrap=True,
    )
    return 0


def _print_usage(console: Console, stack: Stack, args: argparse.Namespace) -> None:
    console.print(
        f"\nsandbox admin token: {stack.run_dir / 'sandbox' / 'admin-token'} (mode 600)\n"
        f"notifications: {stack.run_dir / 'listener' / 'alerts.jsonl'}\n"
        f"journeys: dvcwatch shop --target {stack.urls['sandbox']} --pushgateway {stack.urls['pushgateway']}\n"
        f"load: dvcwatch load --profile smoke --host {stack.urls['sandbox']} "
        f"--metrics-port {stack.load_metrics_port}",
        markup=False,
        soft_wrap=True,  # commands to copy stay on one line
    )


def _print_components(console: Console, stack: Stack, supervisor: bool = False) -> bool:
    from rich.markup import escape
    from rich.table import Table

    table = Table("component", "pid", "state", "restarts", "url")
    ok = True
    for row in stack.status():
        state = "[green]up[/]" if row["alive"] and row["healthy"] is not False else "[red]DOWN[/]"
        if row["alive"] and row["healthy"] is False:
            state = "[yellow]unhealthy[/]"
        ok = ok and row["alive"] and row["healthy"] is not False
        if row.get("failed"):
            state = "[red]DOWN, given up[/]"
        table.add_row(row["name"], str(row["pid"]), state, str(row["restarts"]), escape(row["url"]))
    console.print(table)
    if supervisor:
        pid = stack.supervisor_pid()
        console.print(f"supervisor: {f'pid {pid}' if pid else 'not running'}", markup=False)
    return ok


def run_down(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rich.console import Console

    from dvcwatch.orchestration.stack import Stack, StackError

    console = Console(highlight=False)
    try:
        stack = Stack.load(Path(args.run_dir))
    except StackError as exc:
        console.print(f"nothing to stop: {exc}")
        return 0
    stopped = stack.stop()
    console.print(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}", markup=False)
    return 0


def run_status(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rich.console import Console

    from dvcwatch.orchestration.stack import Stack

    console = Console(highlight=False)
    stack = Stack.load(Path(args.run_dir))
    ok = _print_components(console, stack, supervisor=True)
    try:
        firing = stack.query('ALERTS{alertstate="firing"}')
        names = sorted({r["metric"]["alertname"] for r in firing})
        console.print(f"firing in Prometheus: {', '.join(names) if names else 'none'}")
        held = stack.alerts()
        inhibited = [a for a in held if a["status"]["inhibitedBy"]]
        console.print(f"in Alertmanager: {len(held)} active, {len(inhibited)} inhibited")
    except OSError:
        console.print("[yellow]Prometheus or Alertmanager not answering[/]")
    console.print(f"notifications received: {len(stack.notifications())}")
    return 0 if ok else 1


def run_fault(args: argparse.Namespace) -> int:
    from pathlib import Path

    import yaml

    from dvcwatch.core.errors import ConfigError
    from dvcwatch.orchestration.stack import Stack

    stack = Stack.load(Path(args.run_dir))
    if args.clear:
        faults = []
    elif args.hang:
        faults = [{"kind": "hang"}]
    else:
        from dvcwatch.core.yamlconfig import read_yaml

        data, _ = read_yaml(args.file)
        if not isinstance(data, dict) or not isinstance(data.get("faults"), list):
            raise ConfigError("expected a mapping with a `faults:` list", path=args.file)
        faults = data["faults"]
    active = stack.set_faults(faults)
    print(yaml.safe_dump(active, allow_unicode=True, sort_keys=False).rstrip())
    return 0


def run_link(args: argparse.Namespace) -> int:
    from pathlib import Path

    from dvcwatch.orchestration.stack import Stack

    Stack.load(Path(args.run_dir)).cut_link(args.ward, cut=args.state == "down")
    print(f"link {args.ward}: {args.state}")
    return 0
